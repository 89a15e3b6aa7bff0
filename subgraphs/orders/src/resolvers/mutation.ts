import type { MutationResolvers } from '../generated/resolvers-types';
import type { OrderRecord } from '../db/order-record';

const result = (order: OrderRecord) => ({ order, status: order.status, message: order.message });

export const Mutation: MutationResolvers = {
  buyStock: async (_parent, { input }, { orderService, requestId }) =>
    result(await orderService.buy(input, requestId)),
  sellStock: async (_parent, { input }, { orderService, requestId }) =>
    result(await orderService.sell(input, requestId)),
  cancelOrder: async (_parent, { id }, { orderService }) => result(await orderService.cancel(id)),
};
