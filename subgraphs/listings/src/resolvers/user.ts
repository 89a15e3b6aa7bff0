import { emptyConnection, parseConnectionArgs } from '@brokerage/graphql';
import { isRowId, parsePage } from '@brokerage/service';
import { LISTINGS_LIST } from '../db/listings-repository';
import type { UserResolvers } from '../generated/resolvers-types';

export const User: UserResolvers = {
  __resolveReference: ({ id }) => ({ id }),
  listings: ({ id }, { pageNum, pageSize }, { listingsOfOwner }) => {
    const page = parsePage(pageNum ?? 1, pageSize ?? 10);
    return isRowId(id) ? listingsOfOwner.load({ ownerId: id, ...page }) : [];
  },
  listingsConnection: ({ id }, args, { listingsConnectionOfOwner }) => {
    const page = parseConnectionArgs(LISTINGS_LIST, args);
    return isRowId(id) ? listingsConnectionOfOwner.load({ ownerId: id, page }) : emptyConnection();
  },
};
