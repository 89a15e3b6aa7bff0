import { z } from 'zod';
import { DATE_PATTERN, TIME_PATTERN } from './exchange-time';

/**
 * The exchange cancelled a trade that may already have been published as a quote. Published on the
 * prices topic beside the quotes (same key, the stock id, so it stays in order with them), as a
 * message of its own kind: it has no top-level `time`, `seq` or `price`, so `priceQuoteSchema`
 * and `decodePriceQuote` reject it and a consumer of quotes alone never takes it for a trade. It
 * also carries the Kafka header `PRICE_MESSAGE_HEADER: 'trade-cancelled'` (quotes carry none), so a
 * consumer can skip it without parsing it.
 *
 * `minuteLast` is the latest trade of the cancelled trade's minute that stands once it is gone
 * (computed by the fetcher from every trade of that minute it has published), or null when the
 * minute has no trade left: the minute series takes that price for that minute, or loses the minute.
 */
export const tradeCancellationSchema = z.object({
  type: z.literal('trade-cancelled'),
  stockId: z.string().regex(/^\d{1,20}$/),
  symbol: z.string().regex(/^[a-z0-9_]{1,32}$/),
  /** Trading day of the cancelled trade, `yyyymmdd`. */
  date: z.string().regex(DATE_PATTERN),
  /** The cancelled trade: its time (`hhmmss`) and trade number, as its quote had them. */
  cancelled: z.object({
    time: z.string().regex(TIME_PATTERN),
    seq: z.number().int().min(0).max(999_999_999),
  }),
  /** The latest remaining trade of the same minute, or null if none remains. */
  minuteLast: z
    .object({
      time: z.string().regex(TIME_PATTERN),
      seq: z.number().int().min(0).max(999_999_999),
      price: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    })
    .nullable(),
});
export type TradeCancellation = z.infer<typeof tradeCancellationSchema>;

/** The Kafka header naming a price message's kind when it is not an ordinary quote. */
export const PRICE_MESSAGE_HEADER = 'price-message';
export const TRADE_CANCELLED = 'trade-cancelled';

export function encodeTradeCancellation(cancellation: TradeCancellation): Buffer {
  return Buffer.from(JSON.stringify(cancellation));
}

/** Whether a parsed message claims to be a cancellation (then tradeCancellationSchema decides). */
export function isTradeCancellationLike(raw: unknown): boolean {
  return typeof raw === 'object' && raw !== null && (raw as { type?: unknown }).type === TRADE_CANCELLED;
}
