import { isRowId } from '@brokerage/service';
import type { ListingResolvers } from '../generated/resolvers-types';

export const Listing: ListingResolvers = {
  // One `_entities` call from the gateway becomes one SQL query through the loader.
  __resolveReference: ({ id }, { listingById }) => (isRowId(id) ? listingById.load(id) : null),
  // A reference the users subgraph resolves: the gateway joins, this service reads no user data.
  user: ({ userId }) => ({ id: userId }),
};
