import { isRowId, parsePage } from '@brokerage/common';
import type { UserResolvers } from '../generated/resolvers-types';

export const User: UserResolvers = {
  __resolveReference: ({ id }) => ({ id }),
  listings: ({ id }, { pageNum, pageSize }, { listingsOfOwner }) => {
    const page = parsePage(pageNum ?? 1, pageSize ?? 10);
    return isRowId(id) ? listingsOfOwner.load({ ownerId: id, ...page }) : [];
  },
};
