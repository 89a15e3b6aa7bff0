import { parseRowId, requireActingFor } from '@brokerage/common';
import type { MutationResolvers } from '../generated/resolvers-types';
import type { OrderRecord } from '../db/order-record';

const result = (order: OrderRecord) => ({ order, status: order.status, message: order.message });

export const Mutation: MutationResolvers = {
  buyStock: async (_parent, { input }, { orderService, requestId, caller }) => {
    requireActingFor(caller, input.userId, 'buy');
    return result(await orderService.buy(input, requestId));
  },
  sellStock: async (_parent, { input }, { orderService, requestId, caller }) => {
    requireActingFor(caller, input.userId, 'sell');
    return result(await orderService.sell(input, requestId));
  },
  cancelOrder: async (_parent, { id }, { orderService, orderById, caller }) => {
    // The owner is checked first; an order that does not exist is left to cancel() to report.
    const order = await orderById.load(parseRowId(id, 'id'));
    if (order) requireActingFor(caller, order.userId, 'cancel orders');
    return result(await orderService.cancel(id));
  },
};
