import { decodePriceMessage, type TradeCancellation } from '@brokerage/price-fetcher-contract';
import type { MinuteFold, StockDayMinutes } from './minute-fold';

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
// the schema's rules once, byte by byte, and remembered with its symbol and date. A known prefix is
// found by a hash of its bytes and then compared with them, four bytes at a time through a DataView
// of the fetch response the message lies in: about half the cost of building its latin1 string and
// looking that up, and no garbage. It also remembers its stock-day's entry in the batch's fold, so
// the trade goes straight in. No symbol, date or time string is built per message, nor ever one
// for the stock id (the series do not use it). Anything else (another key order, whitespace, escapes, an invalid value,
// a trade cancellation) goes to decodePriceMessage, which decides: the fast path accepts only what
// decodePriceQuote accepts, with the same result (see quote-reader.test.ts).

const bytesOf = (text: string) => Uint8Array.from(text, (char) => char.charCodeAt(0));
const STOCK_ID = bytesOf('{"stockId":"');
const SYMBOL = bytesOf('","symbol":"');
const DATE = bytesOf('","date":"');
const TIME = bytesOf('","time":"');
const SEQ = bytesOf('","seq":');
const PRICE = bytesOf(',"price":');
const TIME_W = new DataView(TIME.buffer);
const SEQ_W = new DataView(SEQ.buffer);
const PRICE_W = new DataView(PRICE.buffer);
const CLOSE = 0x7d;
const ZERO = 0x30;
/** Distinct stock-days remembered; past this the memory starts afresh (a burst of bad prefixes, say). */
const MAX_PREFIXES = 10_000;

/** A valid prefix (everything before the time): its bytes, and the symbol and date it holds. */
interface KnownPrefix {
  bytes: DataView;
  symbol: string;
  date: string;
  /**
   * The fold this stock-day's last quote went into, and its entry there. One batch's quotes go
   * into one fold, so this saves two map lookups per quote; that fold stays alive until the
   * stock-day's next quote, in a later batch.
   */
  fold: MinuteFold | undefined;
  day: StockDayMinutes | undefined;
}

/** Reads price messages into a MinuteFold. */
export class QuoteReader {
  /**
   * Valid prefixes by a hash of their bytes. One per hash: two prefixes that collide (it takes
   * thousands of stock-days to be likely) only make each other be checked again.
   */
  private readonly prefixes = new Map<number, KnownPrefix>();
  /**
   * A view of the memory the last message lay in. kafkajs' messages are slices of their fetch
   * response, so this changes once a fetch, not once a message (and keeps only the last fetch's
   * memory alive).
   */
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

  /**
   * Adds the quote in `value` to `fold`, or returns the trade cancellation it holds (leaving `fold`
   * as it was); throws, as decodePriceMessage does, if it is neither.
   */
  read(value: Buffer | null, fold: MinuteFold): TradeCancellation | undefined {
    if (value && this.readCanonical(value, fold)) return undefined;
    const { quote, cancellation } = decodePriceMessage(value);
    if (quote) fold.add(quote);
    return cancellation;
  }

  /** Whether `b` was a valid quote in encodePriceQuote's exact layout (and is now in `fold`). */
  private readCanonical(b: Buffer, fold: MinuteFold): boolean {
    if (this.view.buffer !== b.buffer) this.view = new DataView(b.buffer);
    const trade = readTrade(b, this.view);
    if (!trade) return false;
    const prefixEnd = trade.prefixEnd;
    const hash = hashOf(this.view, b.byteOffset, prefixEnd);
    let known = this.prefixes.get(hash);
    if (!known || !sameBytes(this.view, b.byteOffset, known.bytes, prefixEnd)) {
      const stockDay = scanPrefix(b, prefixEnd);
      if (!stockDay) return false;
      if (this.prefixes.size >= MAX_PREFIXES) this.prefixes.clear();
      // A copy of its own: `b` lies in the whole fetch response, which must not stay alive for it.
      const bytes = new DataView(new Uint8Array(b.subarray(0, prefixEnd)).buffer);
      known = { bytes, ...stockDay, fold: undefined, day: undefined };
      this.prefixes.set(hash, known);
    }
    if (known.fold !== fold || !known.day) {
      known.fold = fold;
      known.day = fold.stockDay(known.symbol, known.date);
    }
    fold.putIn(known.day, trade.time, trade.seq, trade.price);
    return true;
  }
}

/** A hash (FNV-1a over 32-bit words) of the `length` bytes at `offset` of `view`. */
function hashOf(view: DataView, offset: number, length: number): number {
  let hash = 0x811c9dc5 ^ length;
  let i = 0;
  for (; i + 4 <= length; i += 4) hash = Math.imul(hash ^ view.getInt32(offset + i, true), 0x01000193);
  for (; i < length; i += 1) hash = Math.imul(hash ^ view.getUint8(offset + i), 0x01000193);
  return hash;
}

/** Whether the `length` bytes at `offset` of `view` are exactly `expected`. */
function sameBytes(view: DataView, offset: number, expected: DataView, length: number): boolean {
  if (expected.byteLength !== length) return false;
  let i = 0;
  for (; i + 4 <= length; i += 4)
    if (view.getInt32(offset + i, true) !== expected.getInt32(i, true)) return false;
  for (; i < length; i += 1) if (view.getUint8(offset + i) !== expected.getUint8(i)) return false;
  return true;
}

/** The last trade read, reused: one allocation less per message. */
const lastTrade = { time: 0, seq: 0, price: 0, prefixEnd: 0 };

/**
 * `","time":"<hhmmss>","seq":<seq>,"price":<price>}` exactly at the end of `b`, read backwards
 * from the end (so that finding where the prefix ends costs no search): the trade, and where the
 * prefix ends; undefined if the tail is anything else.
 */
function readTrade(b: Buffer, view: DataView): typeof lastTrade | undefined {
  const base = b.byteOffset;
  const priceEnd = b.length - 1;
  if (priceEnd < 0 || b[priceEnd] !== CLOSE) return undefined;
  const priceStart = digitsStart(b, priceEnd);
  // Positive (so no leading zero at all) and at most 16 digits, then checked against 2^53 - 1.
  if (priceEnd - priceStart < 1 || priceEnd - priceStart > 16 || b[priceStart] === ZERO) return undefined;
  const price = digits(b, priceStart, priceEnd);
  if (!Number.isSafeInteger(price)) return undefined;

  const seqEnd = priceStart - PRICE.length;
  if (seqEnd < 0 || !sameBytes(view, base + seqEnd, PRICE_W, PRICE.length)) return undefined;
  const seqStart = digitsStart(b, seqEnd);
  // JSON numbers have no leading zeros; 9 digits at most (999,999,999).
  if (seqEnd - seqStart < 1 || seqEnd - seqStart > 9 || (b[seqStart] === ZERO && seqEnd - seqStart > 1)) {
    return undefined;
  }

  const timeEnd = seqStart - SEQ.length;
  if (timeEnd < 0 || !sameBytes(view, base + timeEnd, SEQ_W, SEQ.length)) return undefined;
  const timeStart = timeEnd - 6;
  if (timeStart < 0 || digitsStart(b, timeEnd) > timeStart) return undefined;
  const time = digits(b, timeStart, timeEnd);
  // hh <= 23, mm <= 59, ss <= 59.
  if (time >= 240_000 || Math.floor(time / 100) % 100 > 59 || time % 100 > 59) return undefined;

  const prefixEnd = timeStart - TIME.length;
  if (prefixEnd < 0 || !sameBytes(view, base + prefixEnd, TIME_W, TIME.length)) return undefined;
  lastTrade.time = time;
  lastTrade.seq = digits(b, seqStart, seqEnd);
  lastTrade.price = price;
  lastTrade.prefixEnd = prefixEnd;
  return lastTrade;
}

/**
 * `{"stockId":"<1-20 digits>","symbol":"<1-32 of a-z0-9_>","date":"<yyyymmdd>` exactly, ending
 * at `end`: its symbol and date, else undefined.
 */
function scanPrefix(b: Buffer, end: number): { symbol: string; date: string } | undefined {
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

/** Whether `b` holds `expected` at `at`. */
function holds(b: Buffer, at: number, expected: Uint8Array): boolean {
  if (at < 0 || at + expected.length > b.length) return false;
  for (let i = 0; i < expected.length; i += 1) if (b[at + i] !== expected[i]) return false;
  return true;
}

/** The index after `expected` if `b` holds it at `at`, else -1 (which every later check rejects). */
function literal(b: Buffer, at: number, expected: Uint8Array): number {
  return holds(b, at, expected) ? at + expected.length : -1;
}

/** The index of the first of the digits that end just before `end` (`end` itself if there is none). */
function digitsStart(b: Buffer, end: number): number {
  let start = end;
  for (let code = b[start - 1]; start > 0 && code! >= 48 && code! <= 57; code = b[--start - 1]);
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
