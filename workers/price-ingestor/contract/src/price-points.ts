import { z } from 'zod';
import { DATE_PATTERN, TIME_PATTERN } from '@brokerage/price-fetcher-contract';

/**
 * The price ingestor's announcement of minute points it has just written to a stock's latest
 * trading day, published on the stock's Redis pub/sub channel (`pricePointsChannel`) by the same
 * script that writes them, so a point is announced exactly when readers can see it. A series
 * fragment: `time[i]` (hhmmss, exchange time) goes with `price[i]`, sorted by time; the minutes
 * the write added or whose price it changed. Pub/sub is not durable: a listener that was away
 * reads the series (the stocks subgraph's `priceHistory`) for what it missed.
 */
export const pricePointsEventSchema = z.object({
  symbol: z.string(),
  date: z.string().regex(DATE_PATTERN),
  time: z.array(z.string().regex(TIME_PATTERN)),
  price: z.array(z.number().int()),
});
export type PricePointsEvent = z.infer<typeof pricePointsEventSchema>;

/** The Redis pub/sub channel of one stock's new minute points (its lower-case symbol). */
export function pricePointsChannel(prefix: string, symbol: string): string {
  return `${prefix}${symbol}`;
}

/** Where the ingestor publishes by default, and gateways listen. */
export const DEFAULT_PRICE_POINTS_CHANNEL_PREFIX = 'prices:points:';
