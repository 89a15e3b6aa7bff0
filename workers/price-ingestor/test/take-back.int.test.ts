import { createRedis, type Redis } from '@brokerage/redis';
import {
  encodePriceQuote,
  encodeTradeCancellation,
  type PriceQuote,
  type TradeCancellation,
} from '@brokerage/price-fetcher-contract';
import { seriesKeys } from '@brokerage/price-ingestor-contract';
import fc from 'fast-check';
import { deletePrefixedKeys, testLogger, testRedisUrl, uniqueSuffix } from '../../../test/support/services';
import { MinuteSeriesStore } from '../src/minute-series-store';
import { PriceBatch } from '../src/price-batch';
import { QuoteReader } from '../src/quote-reader';

const stock = { stockId: '44891482026867833', symbol: 'stock1', date: '20261121' };
const minuteOf = (time: string) => `${time.slice(0, 4)}00`;

/** The oracle: each minute's latest trade that was not cancelled. */
function expectedSeries(trades: PriceQuote[], cancelled: Set<number>) {
  const latest = new Map<string, PriceQuote>();
  for (const trade of trades) {
    if (cancelled.has(trade.seq)) continue;
    const current = latest.get(minuteOf(trade.time));
    if (!current || trade.time > current.time || (trade.time === current.time && trade.seq > current.seq))
      latest.set(minuteOf(trade.time), trade);
  }
  const times = [...latest.keys()].sort();
  return { time: times, price: times.map((time) => latest.get(time)!.price) };
}

/**
 * The messages as the fetcher publishes them: each trade in trade-number order and, after the trade
 * at which a cancellation is learnt, the cancellation with the latest remaining published trade of
 * its minute.
 */
function messagesOf(trades: PriceQuote[], cancelAfter: Map<number, number[]>): Buffer[] {
  const messages: Buffer[] = [];
  const cancelled = new Set<number>();
  trades.forEach((trade, index) => {
    messages.push(encodePriceQuote(trade));
    for (const seq of cancelAfter.get(index) ?? []) {
      cancelled.add(seq);
      const gone = trades.find((candidate) => candidate.seq === seq)!;
      const remaining = trades
        .slice(0, index + 1)
        .filter((other) => !cancelled.has(other.seq) && minuteOf(other.time) === minuteOf(gone.time))
        .sort((a, b) => a.time.localeCompare(b.time) || a.seq - b.seq)
        .at(-1);
      const cancellation: TradeCancellation = {
        type: 'trade-cancelled',
        ...stock,
        cancelled: { time: gone.time, seq: gone.seq },
        minuteLast: remaining ? { time: remaining.time, seq: remaining.seq, price: remaining.price } : null,
      };
      messages.push(encodeTradeCancellation(cancellation));
    }
  });
  return messages;
}

// A morning of few minutes, so that trades meet in a minute and cancellations empty some.
const tradesArb = fc
  .array(
    fc.tuple(
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 0, max: 59 }),
      fc.integer({ min: 1, max: 99_999 }),
    ),
    {
      minLength: 1,
      maxLength: 25,
    },
  )
  .map((rows) =>
    rows
      .map(([minute, second]) => minute * 100 + second)
      .sort((a, b) => a - b)
      .map((clock, index) => ({
        ...stock,
        time: `09${String(clock).padStart(4, '0')}`,
        seq: index + 1,
        price: rows[index]![2],
      })),
  );

describe('taking a cancelled trade back out of the minute series', () => {
  const prefix = `test:${uniqueSuffix()}:`;
  let redis: Redis;
  let store: MinuteSeriesStore;
  let run = 0;

  beforeAll(() => {
    redis = createRedis({ url: testRedisUrl, keyPrefix: prefix, logger: testLogger('take-back-test') });
    store = new MinuteSeriesStore(redis);
  });

  afterAll(async () => {
    await deletePrefixedKeys(redis, prefix);
    redis.disconnect();
  });

  async function ingest(messages: Buffer[], cuts: number[]) {
    const reader = new QuoteReader();
    const bounds = [...new Set([0, ...cuts.map((cut) => cut % (messages.length + 1)), messages.length])].sort(
      (a, b) => a - b,
    );
    for (let i = 0; i + 1 < bounds.length; i += 1) {
      const batch = new PriceBatch();
      for (const message of messages.slice(bounds[i], bounds[i + 1])) {
        const cancellation = reader.read(message, batch.fold);
        if (cancellation) batch.takeBack(cancellation);
      }
      await store.writeBatch(batch);
    }
  }

  it('leaves every minute at its latest trade not cancelled, whatever the batches and a replayed tail', async () => {
    await fc.assert(
      fc.asyncProperty(
        tradesArb,
        fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        fc.nat(),
        async (trades, cancelPicks, cuts, replayFrom) => {
          run += 1;
          const symbol = `s${run}`;
          const mine = trades.map((trade) => ({ ...trade, symbol }));
          // Each cancellation is learnt at or after its trade's publication.
          const cancelAfter = new Map<number, number[]>();
          const cancelled = new Set<number>();
          for (const [pick, delay] of cancelPicks) {
            const index = pick % mine.length;
            if (cancelled.has(mine[index]!.seq)) continue;
            cancelled.add(mine[index]!.seq);
            const at = Math.min(mine.length - 1, index + (delay % 3));
            cancelAfter.set(at, [...(cancelAfter.get(at) ?? []), mine[index]!.seq]);
          }
          const messages = messagesOf(mine, cancelAfter).map((message) =>
            Buffer.from(message.toString().replace('"symbol":"stock1"', `"symbol":"${symbol}"`)),
          );
          await ingest(messages, cuts);
          // A consumer that crashed replays a tail of the partition, in order.
          await ingest(messages.slice(replayFrom % messages.length), []);
          const expected = expectedSeries(mine, cancelled);
          const raw = await redis.get(seriesKeys.day(symbol, stock.date));
          if (expected.time.length === 0) expect(raw).toBeNull();
          else expect(JSON.parse(raw!)).toEqual(expected);
          const orders = (await redis.get(seriesKeys.dayOrders(symbol, stock.date))) ?? '';
          expect(orders.length).toBe(expected.time.length * 16);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('rewrites the bare key of the latest day too, and removes a day left without trades', async () => {
    const symbol = 'solo';
    const trade = { ...stock, symbol, time: '090105', seq: 1, price: 1000 };
    await store.apply([trade]);
    expect(await redis.get(seriesKeys.latest(symbol))).toBe('{"time":["090100"],"price":[1000]}');
    await store.takeBack({
      type: 'trade-cancelled',
      ...stock,
      symbol,
      cancelled: { time: trade.time, seq: 1 },
      minuteLast: null,
    });
    expect(await redis.get(seriesKeys.latest(symbol))).toBeNull();
    expect(await redis.get(seriesKeys.day(symbol, stock.date))).toBeNull();
    expect(await redis.get(seriesKeys.latestDate(symbol))).toBeNull();
  });
});
