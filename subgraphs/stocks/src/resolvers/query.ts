import { badUserInput } from '@brokerage/common';
import type { QueryResolvers } from '../generated/resolvers-types';
import { INSTRUMENT_ID, SYMBOL } from './rules';

export const Query: QueryResolvers = {
  stocks: (_parent, _args, { stocks }) => stocks.all(),
  stock: (_parent, { id }, { stockById }) => {
    if (!INSTRUMENT_ID.test(id)) throw badUserInput('id must be an instrument code of 1 to 20 digits', 'id');
    return stockById.load(id);
  },
  stockBySymbol: (_parent, { symbol }, { stocks }) => {
    if (!SYMBOL.test(symbol))
      throw badUserInput('symbol must be 1 to 32 letters, digits or underscores', 'symbol');
    return stocks.findBySymbol(symbol.toLowerCase());
  },
};
