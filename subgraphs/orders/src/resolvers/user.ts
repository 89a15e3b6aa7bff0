import { isRowId, parsePage, requireActingFor } from '@brokerage/common';
import type { UserResolvers } from '../generated/resolvers-types';

export const User: UserResolvers = {
  __resolveReference: ({ id }) => ({ id }),
  orders: ({ id }, { pageNum, pageSize }, { ordersOfUser, caller }) => {
    requireActingFor(caller, id, 'see orders');
    const page = parsePage(pageNum ?? 1, pageSize ?? 10);
    return isRowId(id) ? ordersOfUser.load({ ownerId: id, ...page }) : [];
  },
  holdings: ({ id }, _args, { holdingsOf, caller }) => {
    requireActingFor(caller, id, 'see holdings');
    return isRowId(id) ? holdingsOf.load(id) : [];
  },
};
