import { parsePage, parseRowId } from '@brokerage/common';
import type { QueryResolvers } from '../generated/resolvers-types';

export const Query: QueryResolvers = {
  order: (_parent, { id }, { orderById }) => orderById.load(parseRowId(id, 'id')),
  orders: (_parent, { pageNum, pageSize, userId }, { orders }) =>
    orders.history(
      parsePage(pageNum ?? 1, pageSize ?? 10),
      userId === undefined || userId === null ? undefined : parseRowId(userId, 'userId'),
    ),
};
