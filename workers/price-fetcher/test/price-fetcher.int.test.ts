import {
  createKafka,
  createLogger,
  createRedis,
  decodePriceMessage,
  loadConfig,
  PRICE_MESSAGE_HEADER,
  seriesKeys,
  toExchangeMoment,
  type PriceSeries,
  type Redis,
} from '@brokerage/common';
import type { Consumer } from 'kafkajs';
import { eventually } from '../../../test/support/price-series';
import { kafkaBrokers, testRedisUrl, uniqueSuffix } from '../../../test/support/services';
import { createApp as createIngestor, type PriceIngestorApp } from '../../price-ingestor/src/app';
import { priceIngestorConfigSchema } from '../../price-ingestor/src/config';
import { createApp, type PriceFetcherApp } from '../src/app';
import { priceFetcherConfigSchema } from '../src/config';
import { startTsetmcStandIn, type TsetmcStandIn } from './tsetmc-fixture-server';

// The fetcher, the real broker, the ingestor and Redis against the TSETMC stand-in, driven through
// each way the real service misbehaves. After each step the Redis series must equal the minute-wise
// last price of the non-cancelled trades of the right session, and no trade may be published twice.

const today = toExchangeMoment(new Date(), 'Asia/Tehran').date;
const lastSession = toExchangeMoment(new Date(Date.now() - 86_400_000), 'Asia/Tehran').date;

describe('price fetcher with the TSETMC source, into Redis', () => {
  const suffix = uniqueSuffix();
  const topic = `test.prices.${suffix}`;
  const seriesPrefix = `test:${suffix}:prices:`;
  const stock = { id: '44891482026867833', symbol: 'goodstock' };
  const logger = createLogger({ service: 't', level: 'silent' });
  let standIn: TsetmcStandIn;
  let fetcher: PriceFetcherApp;
  let ingestor: PriceIngestorApp;
  let consumer: Consumer;
  let redis: Redis;
  const published: Array<{ kind: string; date: string; seq: number }> = [];

  beforeAll(async () => {
    standIn = await startTsetmcStandIn(today);
    // Throughout: a browser's User-Agent required, and every row listed twice.
    standIn.behaviours.browserUserAgentOnly = true;
    standIn.behaviours.duplicateRows = true;
    redis = createRedis({ url: testRedisUrl, keyPrefix: seriesPrefix, logger });
    ingestor = createIngestor(
      loadConfig(priceIngestorConfigSchema, {
        PORT: '0',
        KAFKA_BROKERS: kafkaBrokers().join(','),
        PRICES_TOPIC: topic,
        CONSUMER_GROUP: `ingestor-${suffix}`,
        PRICES_KEY_PREFIX: seriesPrefix,
      }),
      logger,
    );
    fetcher = createApp(
      loadConfig(priceFetcherConfigSchema, {
        PORT: '0',
        KAFKA_BROKERS: kafkaBrokers().join(','),
        PRICES_TOPIC: topic,
        REDIS_URL: testRedisUrl,
        REDIS_KEY_PREFIX: `test:${suffix}:fetcher:`,
        PRICE_SOURCE: 'tsetmc',
        STOCKS: `${stock.id}:${stock.symbol}`,
        TSETMC_BASE_URL: standIn.url,
        TSETMC_TIMEOUT_MS: '500',
        TSETMC_RETRIES: '3',
        FETCH_INTERVAL_MS: '150',
      }),
      logger,
    );
    // A day without a session, whose feed shows the last session's trades, one of them cancelled.
    standIn.behaviours.holiday = true;
    standIn.trade(stock.id, 90005, 1000, lastSession);
    standIn.trade(stock.id, 90040, 1010, lastSession);
    standIn.trade(stock.id, 90130, 1020, lastSession);
    standIn.cancel(stock.id, 2, 90200, lastSession);
    await fetcher.start();
    await ingestor.start();
    consumer = createKafka({ clientId: 't', brokers: kafkaBrokers(), logger }).consumer({
      groupId: `t-${suffix}`,
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const { quote, cancellation } = decodePriceMessage(message.value);
        if (quote) published.push({ kind: 'trade', date: quote.date, seq: quote.seq });
        else
          published.push({
            kind: String(message.headers?.[PRICE_MESSAGE_HEADER]),
            ...cancellation.cancelled,
            date: cancellation.date,
          });
      },
    });
  }, 60_000);

  afterAll(async () => {
    await consumer.disconnect();
    await fetcher.stop();
    await ingestor.stop();
    await standIn.stop();
    const raw = createRedis({ url: testRedisUrl, keyPrefix: '', logger });
    const keys = await raw.keys(`test:${suffix}:*`);
    if (keys.length > 0) await raw.del(...keys);
    raw.disconnect();
    redis.disconnect();
  });

  const series = async (date: string): Promise<PriceSeries | null> =>
    JSON.parse((await redis.get(seriesKeys.day(stock.symbol, date))) ?? 'null') as PriceSeries | null;
  async function expectSeries(date: string) {
    const expected = standIn.expectedSeries(stock.id, date);
    expect(
      await eventually(
        () => series(date),
        (actual) => JSON.stringify(actual) === JSON.stringify(expected),
        20_000,
      ),
    ).toEqual(expected);
  }
  /** Waits for a few more fetch cycles, so that a trade published twice would show. */
  async function moreCycles() {
    const calls = standIn.calls.length;
    await eventually(
      async () => standIn.calls.length,
      (count) => count >= calls + 8,
      10_000,
    );
  }
  const trades = (date: string) =>
    published.filter((message) => message.kind === 'trade' && message.date === date);

  it('on a day without a session publishes the last session under its own date, and nothing under today', async () => {
    await expectSeries(lastSession);
    await moreCycles();
    expect(await series(today)).toBeNull();
    expect(trades(lastSession).map(({ seq }) => seq)).toEqual([1, 3]);
    expect(published.every(({ date }) => date === lastSession)).toBe(true);
  });

  it('publishes a session listed late, by bad servers and twice, each trade once', async () => {
    standIn.behaviours.holiday = false;
    standIn.behaviours.lagRows = 2;
    standIn.useBackends(['error', 'empty', 'good']);
    [90005, 90030, 90055, 90115, 90140, 90205, 90230, 90255].forEach((hEven, n) =>
      standIn.trade(stock.id, hEven, 2000 + n),
    );
    await eventually(
      async () => trades(today).length,
      (count) => count >= 6,
      20_000,
    );
    expect(trades(today).map(({ seq }) => seq)).toEqual([1, 2, 3, 4, 5, 6]);
    standIn.behaviours.lagRows = 0;
    await expectSeries(today);
    standIn.trade(stock.id, 90300, 2100);
    await expectSeries(today);
    await moreCycles();
    expect(trades(today).map(({ seq }) => seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(standIn.calls.some(({ backend }) => backend === 'error')).toBe(true);
    expect(standIn.calls.some(({ backend }) => backend === 'empty')).toBe(true);
  });

  it('takes back a cancelled trade that was published: its minute is recomputed in Redis', async () => {
    // 09:01:15 (#4) and 09:01:40 (#5) share a minute; #5 set it, #9 alone set 09:03.
    expect((await series(today))?.price).toEqual([2002, 2004, 2007, 2100]);
    standIn.cancel(stock.id, 5, 91000);
    standIn.cancel(stock.id, 9, 91000);
    await expectSeries(today);
    expect((await series(today))?.price).toEqual([2002, 2003, 2007]);
    expect(JSON.parse((await redis.get(seriesKeys.latest(stock.symbol)))!)).toEqual(await series(today));
    await moreCycles();
    const cancellations = published.filter(({ kind }) => kind === 'trade-cancelled');
    expect(cancellations.map(({ date, seq }) => `${date}#${seq}`)).toEqual([
      `${lastSession}#2`,
      `${today}#5`,
      `${today}#9`,
    ]);
    expect(trades(today)).toHaveLength(9);
  });
});
