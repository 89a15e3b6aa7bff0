import type { HoldingResolvers } from '../generated/resolvers-types';

export const Holding: HoldingResolvers = {
  stock: ({ stockId }) => ({ id: stockId }),
};
