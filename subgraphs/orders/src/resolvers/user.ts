import { isRowId, parsePage } from '@brokerage/common';
import type { UserResolvers } from '../generated/resolvers-types';

export const User: UserResolvers = {
  __resolveReference: ({ id }) => ({ id }),
  orders: ({ id }, { pageNum, pageSize }, { orders }) => {
    const page = parsePage(pageNum ?? 1, pageSize ?? 10);
    return isRowId(id) ? orders.history(page, id) : [];
  },
  holdings: ({ id }, _args, { holdingsOf }) => (isRowId(id) ? holdingsOf.load(id) : []),
};
