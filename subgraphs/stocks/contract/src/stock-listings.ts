import { z } from 'zod';

/**
 * What the stocks subgraph announces on its listings topic (`StocksTopics.stockListings`, keyed by
 * stock id) whenever the list of stocks to price changes: a stock was listed or delisted. Written
 * through the stocks service's outbox in the transaction of the change, so an announcement is
 * never lost and never precedes its change; delivered at least once.
 *
 * `version` orders every change of the whole list: the stocks service numbers changes one after
 * another (one change commits at a time), and its snapshot of the list (`stockListings`) names the
 * version it holds. A follower that rebuilt its list from a snapshot ignores every announcement up
 * to the snapshot's version, and any announcement of a stock older than the one it applied.
 */
export const stockListingEventSchema = z.object({
  type: z.enum(['listed', 'delisted']),
  stockId: z.string().regex(/^\d{1,20}$/),
  symbol: z.string().regex(/^[a-z0-9_]{1,32}$/),
  version: z.number().int().positive(),
  at: z.iso.datetime(),
});
export type StockListingEvent = z.infer<typeof stockListingEventSchema>;

/** The list of stocks to price as of one version: what a follower starts from. */
export interface StockListings {
  version: number;
  stocks: Array<{ id: string; symbol: string; version: number }>;
}

/**
 * The internal query a follower rebuilds its list with, over HTTP to the stocks subgraph with a
 * service token (the field is not part of the public API).
 */
export const STOCK_LISTINGS_QUERY = '{ stockListings { version stocks { id symbol version } } }';
