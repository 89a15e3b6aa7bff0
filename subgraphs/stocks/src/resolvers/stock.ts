import type { StockResolvers } from '../generated/resolvers-types';
import { INSTRUMENT_ID } from './rules';

export const Stock: StockResolvers = {
  __resolveReference: ({ id }, { stockById }) => (INSTRUMENT_ID.test(id) ? stockById.load(id) : null),
  lastPrice: async ({ symbol }, _args, { lastPrice }) => (await lastPrice.load(symbol))?.price ?? null,
  lastPriceAt: async ({ symbol }, _args, { lastPrice }) => (await lastPrice.load(symbol))?.at ?? null,
  priceHistory: ({ symbol }, { date }, { prices }) =>
    // The Date scalar gives midnight UTC of the calendar day asked for.
    prices.series(symbol, date ? date.toISOString().slice(0, 10).replaceAll('-', '') : undefined),
};
