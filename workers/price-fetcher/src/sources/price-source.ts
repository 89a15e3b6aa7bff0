import type { ExchangeMoment, PriceQuote } from '@brokerage/common';
import type { StockRef } from '../config';

/** Where prices come from: a replayed CSV file, or the exchange itself. */
export interface PriceSource {
  readonly name: string;
  /** The exchange's clock now (for a replay, the replayed clock). */
  now(): Promise<ExchangeMoment>;
  /** The stocks this source knows, when the configuration names none. */
  stocks(): StockRef[];
  /**
   * The trades of `stock` on `date` with `from <= time < until` (`hhmmss`; `from` undefined means
   * the start of the day), in trading order. Throws when the source cannot answer correctly.
   */
  trades(stock: StockRef, date: string, from: string | undefined, until: string): Promise<PriceQuote[]>;
}
