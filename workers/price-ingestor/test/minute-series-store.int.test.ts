import { createRedis, type Redis } from '@brokerage/redis';
import { quoteOrder, type PriceQuote } from '@brokerage/price-fetcher-contract';
import { seriesKeys } from '@brokerage/price-ingestor-contract';
import fc from 'fast-check';
import { eventually } from '../../../test/support/price-series';
import { deletePrefixedKeys, testLogger, testRedisUrl, uniqueSuffix } from '../../../test/support/services';
import { MinuteSeriesStore } from '../src/minute-series-store';

/**
 * The oracle: per stock-day, the price of each minute's latest trade (by time, then trade number),
 * computed from every quote at once, with no code shared with the store.
 */
function expectedSeries(quotes: PriceQuote[]): Map<string, { time: string[]; price: number[] }> {
  const latest = new Map<string, Map<string, PriceQuote>>();
  for (const quote of quotes) {
    const key = seriesKeys.day(quote.symbol, quote.date);
    const minutes = latest.get(key) ?? new Map<string, PriceQuote>();
    const minute = `${quote.time.slice(0, 4)}00`;
    const current = minutes.get(minute);
    if (!current || quote.time > current.time || (quote.time === current.time && quote.seq > current.seq)) {
      minutes.set(minute, quote);
    }
    latest.set(key, minutes);
  }
  return new Map(
    [...latest].map(([key, minutes]) => {
      const times = [...minutes.keys()].sort();
      return [key, { time: times, price: times.map((time) => minutes.get(time)!.price) }];
    }),
  );
}

// Few minutes and trade numbers, so that quotes often meet in a minute and some tie on the second.
const hhmmss = fc
  .tuple(fc.constantFrom(9, 12), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 59 }))
  .map((parts) => parts.map((part) => String(part).padStart(2, '0')).join(''));

const quote = fc.record({
  stockId: fc.constantFrom('44891482026867833', '2'),
  symbol: fc.constantFrom('stock1', 'stock2'),
  date: fc.constantFrom('20261121', '20261122'),
  time: hhmmss,
  seq: fc.oneof(fc.integer({ min: 0, max: 9 }), fc.constant(999_999_999)),
  price: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
});

describe('minute series store', () => {
  const prefix = `test:${uniqueSuffix()}:`;
  let redis: Redis;
  let store: MinuteSeriesStore;
  let run = 0;

  beforeAll(() => {
    redis = createRedis({ url: testRedisUrl, keyPrefix: prefix, logger: testLogger('store-test') });
    store = new MinuteSeriesStore(redis);
  });

  afterAll(async () => {
    await deletePrefixedKeys(redis, prefix);
    redis.disconnect();
  });

  it('gives every stock-day the series of its minutes’ latest trades, whatever the batches, order and repeats', async () => {
    // Each case in keys of its own (a store over a sub-prefix), so cases cannot see each other.
    await fc.assert(
      fc.asyncProperty(
        fc.array(quote, { minLength: 1, maxLength: 120 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat({ max: 119 }), { maxLength: 30 }),
        async (quotes, cuts, repeated) => {
          run += 1;
          const caseRedis = createRedis({
            url: testRedisUrl,
            keyPrefix: `${prefix}${run}:`,
            logger: testLogger('store-test'),
          });
          try {
            const caseStore = new MinuteSeriesStore(caseRedis);
            // Some quotes again, at the end: a replay after a crash.
            const sent = [...quotes, ...repeated.filter((i) => i < quotes.length).map((i) => quotes[i]!)];
            for (let from = 0, i = 0; from < sent.length; i += 1) {
              const size = (cuts[i % cuts.length]! % 20) + 1;
              await caseStore.apply(sent.slice(from, from + size));
              from += size;
            }

            for (const [key, series] of expectedSeries(quotes)) {
              expect(JSON.parse((await caseRedis.get(key))!)).toEqual(series);
            }
            // The bare key holds the latest day each symbol traded on.
            for (const symbol of new Set(quotes.map((q) => q.symbol))) {
              const latestDate = quotes
                .filter((q) => q.symbol === symbol)
                .reduce((max, q) => (q.date > max ? q.date : max), '');
              expect(await caseRedis.get(seriesKeys.latestDate(symbol))).toBe(latestDate);
              expect(await caseRedis.get(seriesKeys.latest(symbol))).toBe(
                await caseRedis.get(seriesKeys.day(symbol, latestDate)),
              );
            }
          } finally {
            caseRedis.disconnect();
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reports only the stock-days a batch changed', async () => {
    const first = { stockId: '3', symbol: 'stock3', date: '20261121', time: '090010', seq: 1, price: 100 };
    expect(await store.apply([first])).toBe(1);
    expect(await store.apply([first])).toBe(0);
    expect(await store.apply([{ ...first, time: '090005', seq: 0, price: 1 }])).toBe(0);
    expect(await store.apply([{ ...first, time: '090020', seq: 2, price: 101 }])).toBe(1);
    expect(JSON.parse((await redis.get('stock3'))!)).toEqual({ time: ['090000'], price: [101] });
  });

  it('carries on a day whose trade orders an older ingestor kept in a hash', async () => {
    // As the ingestor before the orders string left a day: the series, and a hash of orders by minute.
    const date = '20261121';
    await redis.set(seriesKeys.day('stock4', date), '{"time":["090000","090100"],"price":[10,11]}');
    await redis.set(seriesKeys.latest('stock4'), '{"time":["090000","090100"],"price":[10,11]}');
    await redis.set(seriesKeys.latestDate('stock4'), date);
    await redis.hset(seriesKeys.legacyDayTicks('stock4', date), {
      '090000': quoteOrder({ time: '090050', seq: 5 }),
      '090100': quoteOrder({ time: '090150', seq: 9 }),
    });
    const trade = (time: string, seq: number, price: number): PriceQuote => ({
      stockId: '4',
      symbol: 'stock4',
      date,
      time,
      seq,
      price,
    });

    // Earlier than what each minute holds: both lose, as they did against the hash.
    expect(await store.apply([trade('090040', 4, 1), trade('090140', 8, 1)])).toBe(0);
    // Later in the first minute, and a new minute: both win.
    expect(await store.apply([trade('090055', 6, 12), trade('090210', 10, 13)])).toBe(1);
    expect(JSON.parse((await redis.get('stock4'))!)).toEqual({
      time: ['090000', '090100', '090200'],
      price: [12, 11, 13],
    });
    // Moved into the orders string, in the series' order, and the hash is gone.
    expect(await redis.get(seriesKeys.dayOrders('stock4', date))).toBe(
      quoteOrder({ time: '090055', seq: 6 }) +
        quoteOrder({ time: '090150', seq: 9 }) +
        quoteOrder({ time: '090210', seq: 10 }),
    );
    expect(await redis.exists(seriesKeys.legacyDayTicks('stock4', date))).toBe(0);
    // And still idempotent afterwards.
    expect(await store.apply([trade('090150', 9, 99)])).toBe(0);
  });

  it('announces the minutes a write adds or changes in the latest day, and nothing else', async () => {
    const channels = `test:${uniqueSuffix()}:points:`;
    const announcing = new MinuteSeriesStore(redis, { pointsChannelPrefix: channels });
    const listener = createRedis({ url: testRedisUrl, keyPrefix: '', logger: testLogger('listener') });
    const heard: unknown[] = [];
    listener.on('pmessage', (_pattern: string, channel: string, message: string) =>
      heard.push({ channel: channel.slice(channels.length), ...(JSON.parse(message) as object) }),
    );
    await listener.psubscribe(`${channels}*`);
    const q = (date: string, time: string, seq: number, price: number): PriceQuote => ({
      stockId: '7',
      symbol: 'announced',
      date,
      time,
      seq,
      price,
    });
    try {
      await announcing.apply([q('20261121', '090005', 1, 100), q('20261121', '090110', 2, 110)]);
      // The same minute by a later trade, an earlier minute filled in, and a new one.
      await announcing.apply([
        q('20261121', '085900', 3, 90),
        q('20261121', '090120', 4, 111),
        q('20261121', '090200', 5, 120),
      ]);
      // Changes nothing: an older trade of a minute already written.
      await announcing.apply([q('20261121', '090001', 0, 1)]);
      // An older day is no one's latest price.
      await announcing.apply([q('20261120', '090000', 1, 5)]);
      await announcing.apply([q('20261121', '090300', 6, 130)]);
      const expected = [
        {
          channel: 'announced',
          symbol: 'announced',
          date: '20261121',
          time: ['090000', '090100'],
          price: [100, 110],
        },
        {
          channel: 'announced',
          symbol: 'announced',
          date: '20261121',
          time: ['085900', '090100', '090200'],
          price: [90, 111, 120],
        },
        { channel: 'announced', symbol: 'announced', date: '20261121', time: ['090300'], price: [130] },
      ];
      expect(
        await eventually(
          async () => heard,
          (list) => list.length >= 3,
          5_000,
        ),
      ).toEqual(expected);
    } finally {
      listener.disconnect();
    }
  });
});
