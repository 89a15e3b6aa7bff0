import type { PriceQuote, TradeCancellation } from '@brokerage/price-fetcher-contract';
import type { StockRef } from '../config';

/** What the fetcher publishes: a trade, or the cancellation of a trade it may have published. */
export type PriceMessage = { quote: PriceQuote } | { cancellation: TradeCancellation };

export interface SourceFetch {
  /** In the order they are to be published. */
  messages: PriceMessage[];
  /** Where the stock stands once `messages` are published (JSON; the source's own form). */
  checkpoint: unknown;
  /**
   * The checkpoint is still behind the source: a fetcher that was down catches up one day at a
   * time, each day checkpointed once published, and fetches again at once.
   */
  behind?: boolean;
  /**
   * Days (`yyyymmdd`, both included) the checkpoint passed over unfetched, because they are before
   * the look-back (BACKFILL_MAX_DAYS).
   */
  skipped?: { from: string; to: string };
}

/** Where prices come from: a replayed CSV file, or the exchange itself. */
export interface PriceSource {
  readonly name: string;
  /** The stocks this source knows, when the configuration names none. */
  stocks(): StockRef[];
  /**
   * Everything of `stock` to publish after `checkpoint` (what an earlier fetch returned, once its
   * messages were acknowledged; undefined the first time, or something the source does not
   * recognise). Throws when the source cannot answer correctly; then nothing is published.
   */
  fetch(stock: StockRef, checkpoint: unknown): Promise<SourceFetch>;
  /** Releases what the source holds open (connections). */
  close?(): void;
}
