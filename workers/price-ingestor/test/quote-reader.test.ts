import { decodePriceQuote, encodePriceQuote, type PriceQuote } from '@brokerage/price-fetcher-contract';
import fc from 'fast-check';
import { MinuteFold } from '../src/minute-fold';
import { QuoteReader } from '../src/quote-reader';

/** A fold's stock-days and their minutes, as plain data. */
function contents(fold: MinuteFold) {
  return fold.stockDays.map(({ symbol, date, minutes }) => ({ symbol, date, minutes: [...minutes] }));
}

/** What the reader put in a fold for one message: the quote as the fold keeps it, or the error. */
function viaReader(reader: QuoteReader, value: Buffer | null) {
  const fold = new MinuteFold();
  try {
    reader.read(value, fold);
  } catch {
    return 'invalid';
  }
  return contents(fold);
}

/** The same through decodePriceQuote, the reference. */
function viaDecode(value: Buffer | null) {
  const fold = new MinuteFold();
  try {
    fold.add(decodePriceQuote(value));
  } catch {
    return 'invalid';
  }
  return contents(fold);
}

const digits = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
const twoDigits = (max: number, min = 0) => fc.integer({ min, max }).map((n) => String(n).padStart(2, '0'));

/** Valid quotes, and nearly valid ones: each field sometimes just outside its rule. */
const quoteLike = fc.record({
  stockId: fc.oneof(digits(1, 20), digits(0, 22), fc.string({ maxLength: 4 })),
  symbol: fc.oneof(
    fc.string({ unit: fc.constantFrom(...'abcxyz019_'), minLength: 1, maxLength: 32 }),
    fc.string({ maxLength: 34 }),
  ),
  date: fc.oneof(
    fc.tuple(digits(4, 4), twoDigits(13), twoDigits(32)).map((parts) => parts.join('')),
    digits(7, 9),
  ),
  time: fc.oneof(
    fc.tuple(twoDigits(24), twoDigits(60), twoDigits(60)).map((parts) => parts.join('')),
    digits(5, 7),
  ),
  seq: fc.oneof(fc.integer({ min: 0, max: 999_999_999 }), fc.integer(), fc.double()),
  price: fc.oneof(
    fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    fc.constantFrom(0, -1, 2 ** 53, 2 ** 53 + 2, 1e16, 1.5),
  ),
});

/** Quotes the contract accepts: every field within its rule. */
const validQuote = fc.record({
  stockId: digits(1, 20),
  symbol: fc.string({ unit: fc.constantFrom(...'abcxyz019_'), minLength: 1, maxLength: 32 }),
  date: fc.tuple(digits(4, 4), twoDigits(12, 1), twoDigits(31, 1)).map((parts) => parts.join('')),
  time: fc.tuple(twoDigits(23), twoDigits(59), twoDigits(59)).map((parts) => parts.join('')),
  seq: fc.integer({ min: 0, max: 999_999_999 }),
  price: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
});

describe('quote reader', () => {
  it('reads what decodePriceQuote reads, with the same result, and rejects what it rejects', () => {
    const reader = new QuoteReader();
    fc.assert(
      fc.property(quoteLike, (quote) => {
        const value = Buffer.from(JSON.stringify(quote));
        expect(viaReader(reader, value)).toEqual(viaDecode(value));
      }),
      { numRuns: 5_000 },
    );
  });

  it('agrees with decodePriceQuote on mangled bytes of valid messages', () => {
    const reader = new QuoteReader();
    fc.assert(
      fc.property(
        validQuote,
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.boolean(),
        (quote, position, byte, cut) => {
          const value = encodePriceQuote(quote);
          expect(viaDecode(value)).not.toBe('invalid');
          const at = position % value.length;
          value[at] = byte;
          const mangled = cut ? value.subarray(0, at) : value;
          expect(viaReader(reader, mangled)).toEqual(viaDecode(mangled));
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it('reads messages wherever they lie in a shared buffer, as kafkajs hands out slices of a fetch', () => {
    // The reader compares prefixes through a view of the memory a message lies in, at its offset,
    // and keeps each stock-day's entry in the batch's fold: the same stock-day at other offsets and
    // in other folds, and other stock-days at the same offsets, must read the same.
    const reader = new QuoteReader();
    const sameFewStockDays = fc.record({
      stockId: fc.constantFrom('1', '22'),
      symbol: fc.constantFrom('stock1', 'stock2'),
      date: fc.constantFrom('20261121', '20261122'),
      time: fc.tuple(twoDigits(23), twoDigits(59), twoDigits(59)).map((parts) => parts.join('')),
      seq: fc.integer({ min: 0, max: 999_999_999 }),
      price: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    });
    const message = fc.tuple(fc.oneof(sameFewStockDays, quoteLike), fc.integer({ min: 0, max: 7 }));
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 40 }), (items) => {
        const encoded = items.map(([quote, gap]) => ({ value: Buffer.from(JSON.stringify(quote)), gap }));
        const fetch = Buffer.alloc(encoded.reduce((sum, { value, gap }) => sum + value.length + gap, 0));
        const batch = new MinuteFold();
        const reference = new MinuteFold();
        let at = 0;
        for (const { value, gap } of encoded) {
          at += gap;
          const slice = fetch.subarray(at, at + value.length);
          value.copy(slice);
          at += value.length;
          expect(viaReader(reader, slice)).toEqual(viaDecode(slice));
          try {
            reader.read(slice, batch);
          } catch {
            // Invalid, as viaDecode has just agreed.
          }
          try {
            reference.add(decodePriceQuote(slice));
          } catch {
            // Invalid.
          }
        }
        expect(contents(batch)).toEqual(contents(reference));
      }),
      { numRuns: 1_000 },
    );
  });

  it('reads other layouts through decodePriceQuote', () => {
    const reader = new QuoteReader();
    const spaced = Buffer.from(
      '{ "price": 7, "seq": 1, "time": "090000", "date": "20261121", "symbol": "s", "stockId": "1" }',
    );
    expect(viaReader(reader, spaced)).toEqual(viaDecode(spaced));
    expect(viaReader(reader, spaced)).not.toBe('invalid');
    expect(viaReader(reader, null)).toBe('invalid');
  });

  it('keeps the latest trade of each minute, whatever the order', () => {
    const reader = new QuoteReader();
    const fold = new MinuteFold();
    const quote = (time: string, seq: number, price: number): PriceQuote => ({
      stockId: '1',
      symbol: 'stock1',
      date: '20261121',
      time,
      seq,
      price,
    });
    for (const value of [
      quote('090059', 2, 30),
      quote('090001', 9, 10),
      quote('090059', 1, 20),
      quote('090100', 0, 40),
    ])
      reader.read(encodePriceQuote(value), fold);
    expect(fold.stockDays).toHaveLength(1);
    expect([...fold.stockDays[0]!.minutes]).toEqual([
      [900, { time: 90059, seq: 2, price: 30 }],
      [901, { time: 90100, seq: 0, price: 40 }],
    ]);
  });
});
