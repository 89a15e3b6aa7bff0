import { requireService } from '@brokerage/auth';
import { badUserInput, codedError } from '@brokerage/service';
import type { QueryResolvers } from '../generated/resolvers-types';
import { INSTRUMENT_ID, MAX_SYMBOLS, SYMBOL } from './rules';

export const Query: QueryResolvers = {
  stocks: (_parent, _args, { stocks }) => stocks.listed(),
  stock: (_parent, { id }, { stockById }) => {
    if (!INSTRUMENT_ID.test(id)) throw badUserInput('id must be an instrument code of 1 to 20 digits', 'id');
    return stockById.load(id);
  },
  stockBySymbol: (_parent, { symbol }, { stocks }) => {
    if (!SYMBOL.test(symbol))
      throw badUserInput('symbol must be 1 to 32 letters, digits or underscores', 'symbol');
    return stocks.findBySymbol(symbol.toLowerCase());
  },
  stocksBySymbols: async (_parent, { symbols }, { stocks }) => {
    if (symbols.length > MAX_SYMBOLS)
      throw codedError('TOO_MANY_SYMBOLS', `At most ${MAX_SYMBOLS} symbols at once`, { limit: MAX_SYMBOLS });
    const bad = symbols.find((symbol) => !SYMBOL.test(symbol));
    if (bad !== undefined)
      throw badUserInput('each symbol must be 1 to 32 letters, digits or underscores', 'symbols');
    const wanted = symbols.map((symbol) => symbol.toLowerCase());
    const found = new Map((await stocks.findBySymbols(wanted)).map((stock) => [stock.symbol, stock]));
    return wanted.map((symbol) => found.get(symbol) ?? null);
  },
  stockListings: async (_parent, _args, { stocks, caller }) => {
    requireService(caller, 'price-fetcher', 'read the stock listings');
    return stocks.listings();
  },
};
