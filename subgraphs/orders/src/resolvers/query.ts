import { requireActingFor, requireAdmin } from '@brokerage/auth';
import { parseConnectionArgs } from '@brokerage/graphql';
import { parsePage, parseRowId } from '@brokerage/service';
import { ORDER_HISTORY_LIST } from '../db/orders-repository';
import { visibleOrder } from './order-visibility';
import type { QueryResolvers } from '../generated/resolvers-types';

export const Query: QueryResolvers = {
  order: async (_parent, { id }, { orderById, caller }) =>
    visibleOrder(await orderById.load(parseRowId(id, 'id')), caller),
  orders: (_parent, { pageNum, pageSize, userId }, { orders, caller }) => {
    const page = parsePage(pageNum ?? 1, pageSize ?? 10);
    if (userId === undefined || userId === null) {
      requireAdmin(caller, "see every user's orders");
      return orders.history(page, undefined);
    }
    const owner = parseRowId(userId, 'userId');
    requireActingFor(caller, owner, 'see orders');
    return orders.history(page, owner);
  },
  ordersConnection: (_parent, { userId, ...args }, { orders, caller }) => {
    const page = parseConnectionArgs(ORDER_HISTORY_LIST, args);
    if (userId === undefined || userId === null) {
      requireAdmin(caller, "see every user's orders");
      return orders.historyConnection(page, undefined);
    }
    const owner = parseRowId(userId, 'userId');
    requireActingFor(caller, owner, 'see orders');
    return orders.historyConnection(page, owner);
  },
};
