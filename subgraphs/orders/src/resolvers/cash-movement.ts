import type { CashMovementResolvers } from '../generated/resolvers-types';

export const CashMovement: CashMovementResolvers = {
  user: ({ userId }) => ({ id: userId }),
  // Read by the owner of the account, who may see their own orders.
  order: ({ orderId }, _args, { orderById }) => (orderId === null ? null : orderById.load(orderId)),
};
