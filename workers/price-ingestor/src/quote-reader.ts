import { decodePriceQuote } from '@brokerage/common';
import type { MinuteFold } from './minute-fold';

// The ingestor reads every price message, so decoding is on its hot path: JSON.parse, validating
// the object and building the quote's strings cost about 2.5 µs and seven allocations a message,
// close to what kafkajs itself spends reading it. Nearly every message is exactly what
// encodePriceQuote writes (JSON.stringify of the fields in schema order), and for one stock and day
// everything before the time is the same bytes:
//
//   {"stockId":"44891482026867833","symbol":"stock1","date":"20261121","time":"090016","seq":3,"price":15580}
//   '------------------- the stock-day's prefix -------------------''---------- the trade ----------'
//
// So the short tail is read (backwards, from the end) as numbers, and the prefix is checked against
// the schema's rules once, byte by byte, and remembered with its symbol and date: a message whose
// prefix is known costs one map lookup on top of its tail, and its trade goes straight into the
// batch's fold. No symbol, date or time string is built per message, nor ever one for the stock id
// (the series do not use it). Anything else (another key order, whitespace, escapes, an invalid value) goes to
// decodePriceQuote, which decides: the fast path accepts only what decodePriceQuote accepts, with
// the same result (see quote-reader.test.ts).

const STOCK_ID = '{"stockId":"';
const SYMBOL = '","symbol":"';
const DATE = '","date":"';
const TIME = '","time":"';
const SEQ = '","seq":';
const PRICE = ',"price":';
const CLOSE = 0x7d;
const ZERO = 0x30;
/** Distinct stock-days remembered; past this the memory starts afresh (a burst of bad prefixes, say). */
const MAX_PREFIXES = 10_000;

interface StockDay {
  symbol: string;
  date: string;
}

/** Reads price messages into a MinuteFold. */
export class QuoteReader {
  /** Valid prefixes (everything before the time) -> the symbol and date they hold. */
  private readonly prefixes = new Map<string, StockDay>();

  /** Adds the quote in `value` to `fold`; throws, as decodePriceQuote does, if it is not a valid quote. */
  read(value: Buffer | null, fold: MinuteFold): void {
    if (!value || !this.readCanonical(value, fold)) fold.add(decodePriceQuote(value));
  }

  /** Whether `b` was a valid quote in encodePriceQuote's exact layout (and is now in `fold`). */
  private readCanonical(b: Buffer, fold: MinuteFold): boolean {
    const trade = readTrade(b);
    if (!trade) return false;
    const prefix = b.toString('latin1', 0, trade.prefixEnd);
    let stockDay = this.prefixes.get(prefix);
    if (!stockDay) {
      stockDay = scanPrefix(b, trade.prefixEnd);
      if (!stockDay) return false;
      if (this.prefixes.size >= MAX_PREFIXES) this.prefixes.clear();
      this.prefixes.set(prefix, stockDay);
    }
    fold.put(stockDay.symbol, stockDay.date, trade.time, trade.seq, trade.price);
    return true;
  }
}

/** The last trade read, reused: one allocation less per message. */
const lastTrade = { time: 0, seq: 0, price: 0, prefixEnd: 0 };

/**
 * `","time":"<hhmmss>","seq":<seq>,"price":<price>}` exactly at the end of `b`, read backwards
 * from the end (so that finding where the prefix ends costs no search): the trade, and where the
 * prefix ends; undefined if the tail is anything else.
 */
function readTrade(b: Buffer): typeof lastTrade | undefined {
  const priceEnd = b.length - 1;
  if (b[priceEnd] !== CLOSE) return undefined;
  const priceStart = digitsStart(b, priceEnd);
  // Positive (so no leading zero at all) and at most 16 digits, then checked against 2^53 - 1.
  if (priceEnd - priceStart < 1 || priceEnd - priceStart > 16 || b[priceStart] === ZERO) return undefined;
  const price = digits(b, priceStart, priceEnd);
  if (!Number.isSafeInteger(price)) return undefined;

  const seqEnd = literalBefore(b, priceStart, PRICE);
  const seqStart = digitsStart(b, seqEnd);
  // JSON numbers have no leading zeros; 9 digits at most (999,999,999).
  if (seqEnd - seqStart < 1 || seqEnd - seqStart > 9 || (b[seqStart] === ZERO && seqEnd - seqStart > 1)) {
    return undefined;
  }

  const timeEnd = literalBefore(b, seqStart, SEQ);
  const timeStart = timeEnd - 6;
  if (timeStart < 0 || digitsStart(b, timeEnd) > timeStart) return undefined;
  if (digits(b, timeStart, timeStart + 2) > 23 || digits(b, timeStart + 2, timeStart + 4) > 59)
    return undefined;
  if (digits(b, timeStart + 4, timeEnd) > 59) return undefined;

  const prefixEnd = literalBefore(b, timeStart, TIME);
  if (prefixEnd < 0) return undefined;
  lastTrade.time = digits(b, timeStart, timeEnd);
  lastTrade.seq = digits(b, seqStart, seqEnd);
  lastTrade.price = price;
  lastTrade.prefixEnd = prefixEnd;
  return lastTrade;
}

/**
 * `{"stockId":"<1-20 digits>","symbol":"<1-32 of a-z0-9_>","date":"<yyyymmdd>` exactly, ending
 * at `end`: its symbol and date, else undefined.
 */
function scanPrefix(b: Buffer, end: number): StockDay | undefined {
  let at = literal(b, 0, STOCK_ID);
  const stockIdEnd = digitsEnd(b, at);
  if (stockIdEnd - at < 1 || stockIdEnd - at > 20) return undefined;
  const symbolStart = literal(b, stockIdEnd, SYMBOL);
  if (symbolStart < 0) return undefined;
  let symbolEnd = symbolStart;
  while (symbolEnd < end && isSymbolByte(b[symbolEnd]!)) symbolEnd += 1;
  if (symbolEnd === symbolStart || symbolEnd - symbolStart > 32) return undefined;
  at = literal(b, symbolEnd, DATE);
  if (at < 0 || at + 8 !== end || digitsEnd(b, at) !== end) return undefined;
  const month = digits(b, at + 4, at + 6);
  const day = digits(b, at + 6, at + 8);
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  return { symbol: b.toString('latin1', symbolStart, symbolEnd), date: b.toString('latin1', at, end) };
}

/** The index after `expected` if `b` holds it at `at`, else -1 (which every later check rejects). */
function literal(b: Buffer, at: number, expected: string): number {
  if (at < 0 || at + expected.length > b.length) return -1;
  for (let i = 0; i < expected.length; i += 1) if (b[at + i] !== expected.charCodeAt(i)) return -1;
  return at + expected.length;
}

/** Where `expected` starts if `b` holds it just before `end`, else -1 (which every later check rejects). */
function literalBefore(b: Buffer, end: number, expected: string): number {
  const start = end - expected.length;
  return start >= 0 && literal(b, start, expected) === end ? start : -1;
}

/** The index of the first of the digits that end just before `end` (`end` itself if there is none). */
function digitsStart(b: Buffer, end: number): number {
  if (end < 0) return end;
  let start = end;
  while (start > 0 && b[start - 1]! >= 48 && b[start - 1]! <= 57) start -= 1;
  return start;
}

/** The index of the first non-digit from `at` (`at` itself if there is none, or if `at` < 0). */
function digitsEnd(b: Buffer, at: number): number {
  if (at < 0) return at;
  let end = at;
  for (let code = b[end]; code !== undefined && code >= 48 && code <= 57; code = b[++end]);
  return end;
}

/** The number that the digits `start`..`end` of `b` spell (already checked to be digits). */
function digits(b: Buffer, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i += 1) value = value * 10 + (b[i]! - ZERO);
  return value;
}

function isSymbolByte(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || code === 95;
}
