import { loaderById, type RequestContext } from '@brokerage/graphql';
import DataLoader from 'dataloader';
import type { StockRecord } from './db/stock-entity';
import type { StocksRepository } from './db/stocks-repository';
import type { LastPrice, PriceReader } from './prices/price-reader';

export interface StocksContext extends RequestContext {
  stocks: StocksRepository;
  prices: PriceReader;
  /** One SQL query for every stock of a request's `_entities` call. */
  stockById: DataLoader<string, StockRecord | null>;
  /** One Redis round trip for the last prices of every stock in a response. */
  lastPrice: DataLoader<string, LastPrice | null>;
  /** A listing change was committed with its announcement: the relay delivers it now. */
  announced: () => void;
}

export function createStocksContext(
  base: RequestContext,
  stocks: StocksRepository,
  prices: PriceReader,
  announced: () => void,
): StocksContext {
  return {
    ...base,
    stocks,
    prices,
    stockById: loaderById((ids) => stocks.findByIds(ids)),
    lastPrice: new DataLoader((symbols) => prices.lastPrices(symbols)),
    announced,
  };
}
