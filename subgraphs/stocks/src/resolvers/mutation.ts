import { requireAdmin } from '@brokerage/auth';
import { badUserInput, codedError } from '@brokerage/service';
import { DuplicateStockError } from '../db/stocks-repository';
import type { MutationResolvers } from '../generated/resolvers-types';
import { INSTRUMENT_ID, MAX_NAME_LENGTH, SYMBOL } from './rules';

export const Mutation: MutationResolvers = {
  createStock: async (_parent, { input }, { stocks, caller, announced }) => {
    requireAdmin(caller, 'list stocks');
    if (!INSTRUMENT_ID.test(input.id)) {
      throw badUserInput('id must be an instrument code of 1 to 20 digits', 'input.id');
    }
    if (!SYMBOL.test(input.symbol)) {
      throw badUserInput('symbol must be 1 to 32 letters, digits or underscores', 'input.symbol');
    }
    const name = input.name.trim();
    if (name.length === 0 || name.length > MAX_NAME_LENGTH || /\p{Cc}/u.test(name)) {
      throw badUserInput(`name must be 1 to ${MAX_NAME_LENGTH} printable characters`, 'input.name');
    }
    try {
      const stock = await stocks.create({ id: input.id, symbol: input.symbol.toLowerCase(), name });
      announced();
      return stock;
    } catch (error) {
      if (error instanceof DuplicateStockError) {
        throw codedError(
          'STOCK_EXISTS',
          `A stock with id ${input.id} or symbol ${input.symbol.toLowerCase()} exists`,
        );
      }
      throw error;
    }
  },
  delistStock: async (_parent, { id }, { stocks, caller, announced }) => {
    requireAdmin(caller, 'delist stocks');
    if (!INSTRUMENT_ID.test(id)) throw badUserInput('id must be an instrument code of 1 to 20 digits', 'id');
    const stock = await stocks.changeListing(id, 'delisted');
    if (!stock) throw codedError('STOCK_NOT_FOUND', `No stock with id ${id}`);
    announced();
    return stock;
  },
  relistStock: async (_parent, { id }, { stocks, caller, announced }) => {
    requireAdmin(caller, 'relist stocks');
    if (!INSTRUMENT_ID.test(id)) throw badUserInput('id must be an instrument code of 1 to 20 digits', 'id');
    const stock = await stocks.changeListing(id, 'listed');
    if (!stock) throw codedError('STOCK_NOT_FOUND', `No stock with id ${id}`);
    announced();
    return stock;
  },
};
