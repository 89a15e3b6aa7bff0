import { parseConnectionArgs } from '@brokerage/graphql';
import { parsePage, parseRowId } from '@brokerage/service';
import { LISTINGS_LIST } from '../db/listings-repository';
import type { QueryResolvers } from '../generated/resolvers-types';

export const Query: QueryResolvers = {
  listings: (_parent, { pageNum, pageSize, userId }, { listings }) =>
    listings.page(
      parsePage(pageNum ?? 1, pageSize ?? 10),
      userId === undefined || userId === null ? undefined : parseRowId(userId, 'userId'),
    ),
  listingsConnection: (_parent, { userId, ...args }, { listings }) =>
    listings.connection(
      parseConnectionArgs(LISTINGS_LIST, args),
      userId === undefined || userId === null ? undefined : parseRowId(userId, 'userId'),
    ),
  listing: (_parent, { id }, { listingById }) => listingById.load(parseRowId(id, 'id')),
};
