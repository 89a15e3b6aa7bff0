import { z } from 'zod';
import { DATE_PATTERN, TIME_PATTERN } from './exchange-time';
import {
  isTradeCancellationLike,
  tradeCancellationSchema,
  type TradeCancellation,
} from './trade-cancellation';

/**
 * One trade price of one stock, as the price fetcher publishes it to Kafka (keyed by `stockId`, so
 * that each stock's quotes stay in order on one partition) and the price ingestor consumes it.
 */
export const priceQuoteSchema = z.object({
  /** Exchange instrument code; a string, as it may not fit a JavaScript number. */
  stockId: z.string().regex(/^\d{1,20}$/),
  /** Lower-case symbol, the Redis key of the stock's series. */
  symbol: z.string().regex(/^[a-z0-9_]{1,32}$/),
  /** Trading day on the exchange's calendar, `yyyymmdd`. */
  date: z.string().regex(DATE_PATTERN),
  /** Time of the trade on the exchange's clock, `hhmmss`. */
  time: z.string().regex(TIME_PATTERN),
  /** Orders trades within one second (the exchange's trade number); later wins. */
  seq: z.number().int().min(0).max(999_999_999),
  /** Price in the smallest currency unit. */
  price: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
});
export type PriceQuote = z.infer<typeof priceQuoteSchema>;

export function encodePriceQuote(quote: PriceQuote): Buffer {
  return Buffer.from(JSON.stringify(quote));
}

/** Whether `value` is `min` to `max` ASCII digits. */
function isDigits(value: string, min: number, max: number): boolean {
  if (value.length < min || value.length > max) return false;
  for (let i = 0; i < value.length; i += 1) {
    const code = value.charCodeAt(i);
    if (code < 48 || code > 57) return false;
  }
  return true;
}

/** `yyyymmdd` with a month of 01-12 and a day of 01-31 (as DATE_PATTERN), without a regular expression. */
function isCalendarDate(value: string): boolean {
  if (!isDigits(value, 8, 8)) return false;
  const month = Number(value.slice(4, 6));
  const day = Number(value.slice(6, 8));
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

/** `hhmmss` on a 24-hour clock (as TIME_PATTERN). */
function isClockTime(value: string): boolean {
  if (!isDigits(value, 6, 6)) return false;
  return (
    Number(value.slice(0, 2)) <= 23 && Number(value.slice(2, 4)) <= 59 && Number(value.slice(4, 6)) <= 59
  );
}

function isSymbol(value: string): boolean {
  if (value.length < 1 || value.length > 32) return false;
  for (let i = 0; i < value.length; i += 1) {
    const code = value.charCodeAt(i);
    if (!((code >= 97 && code <= 122) || (code >= 48 && code <= 57) || code === 95)) return false;
  }
  return true;
}

/**
 * Parses a message value; throws on anything that is not a valid quote. The same rules as
 * `priceQuoteSchema`, checked by hand: this runs once per message on the ingestor's hot path.
 */
export function decodePriceQuote(value: Buffer | null): PriceQuote {
  if (!value) throw new Error('empty message');
  return quoteFrom(JSON.parse(value.toString('utf8')));
}

/**
 * Parses a message of the prices topic: an ordinary quote, or a trade cancellation (see
 * trade-cancellation.ts). Throws on anything else.
 */
export function decodePriceMessage(
  value: Buffer | null,
): { quote: PriceQuote; cancellation?: undefined } | { quote?: undefined; cancellation: TradeCancellation } {
  if (!value) throw new Error('empty message');
  const raw: unknown = JSON.parse(value.toString('utf8'));
  if (isTradeCancellationLike(raw)) return { cancellation: tradeCancellationSchema.parse(raw) };
  return { quote: quoteFrom(raw) };
}

/** The quote a parsed message holds, checked against priceQuoteSchema's rules. */
function quoteFrom(parsed: unknown): PriceQuote {
  const raw = parsed as Partial<Record<keyof PriceQuote, unknown>> | null;
  if (
    raw === null ||
    typeof raw !== 'object' ||
    typeof raw.stockId !== 'string' ||
    !isDigits(raw.stockId, 1, 20) ||
    typeof raw.symbol !== 'string' ||
    !isSymbol(raw.symbol) ||
    typeof raw.date !== 'string' ||
    !isCalendarDate(raw.date) ||
    typeof raw.time !== 'string' ||
    !isClockTime(raw.time) ||
    typeof raw.seq !== 'number' ||
    !Number.isInteger(raw.seq) ||
    raw.seq < 0 ||
    raw.seq > 999_999_999 ||
    typeof raw.price !== 'number' ||
    !Number.isSafeInteger(raw.price) ||
    raw.price <= 0
  ) {
    // The schema says precisely what is wrong; only the failure path pays for it.
    priceQuoteSchema.parse(raw);
    throw new Error('invalid price quote');
  }
  return {
    stockId: raw.stockId,
    symbol: raw.symbol,
    date: raw.date,
    time: raw.time,
    seq: raw.seq,
    price: raw.price,
  };
}

/** A total order of the quotes of one stock and day: time, then trade number. */
export function quoteOrder({ time, seq }: Pick<PriceQuote, 'time' | 'seq'>): string {
  return `${time}.${String(seq).padStart(9, '0')}`;
}
