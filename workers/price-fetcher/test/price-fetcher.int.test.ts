import {
  createKafka,
  createLogger,
  createRedis,
  decodePriceQuote,
  loadConfig,
  toExchangeMoment,
  type PriceQuote,
} from '@brokerage/common';
import type { Consumer } from 'kafkajs';
import { eventually } from '../../../test/support/price-series';
import { kafkaBrokers, testRedisUrl, uniqueSuffix } from '../../../test/support/services';
import { createApp, type PriceFetcherApp } from '../src/app';
import { priceFetcherConfigSchema } from '../src/config';
import { startTsetmcFixture, tsetmcTrade } from './tsetmc-fixture-server';

/** `hhmmss` -> the exchange API's integer HHMMSS. */
const hEven = (time: string) => Number(time);

/** `hhmmss` of `minutesAgo` minutes before now on the exchange's clock, at second 05. */
function minutesAgo(minutes: number): string {
  const { time } = toExchangeMoment(new Date(Date.now() - minutes * 60_000), 'Asia/Tehran');
  return `${time.slice(0, 4)}05`;
}

// Trades a few minutes old must still be today on the exchange's clock.
const nearMidnight = toExchangeMoment(new Date(), 'Asia/Tehran').time < '000500';
const itAwayFromMidnight = nearMidnight ? it.skip : it;

describe('price fetcher with the TSETMC source', () => {
  const suffix = uniqueSuffix();
  const topic = `test.prices.${suffix}`;
  const good = { id: '44891482026867833', symbol: 'goodstock' };
  const bad = { id: '35425587644337450', symbol: 'badstock' };
  const logger = createLogger({ service: 't', level: 'silent' });
  let fixture: Awaited<ReturnType<typeof startTsetmcFixture>>;
  let app: PriceFetcherApp;
  let consumer: Consumer;
  const received: PriceQuote[] = [];

  beforeAll(async () => {
    const [t2, t1] = [minutesAgo(2), minutesAgo(1)];
    fixture = await startTsetmcFixture({
      [`/api/Trade/GetTrade/${good.id}`]: [
        {
          kind: 'json',
          body: {
            trade: [
              tsetmcTrade(1, hEven(t2), 1000),
              tsetmcTrade(2, hEven(t1), 1010),
              tsetmcTrade(3, hEven(t1), 999, 1),
            ],
          },
        },
      ],
      [`/api/Trade/GetTrade/${bad.id}`]: [
        { kind: 'json', body: { trade: [tsetmcTrade(1, hEven(t1), 12.5)] } },
      ],
    });
    app = createApp(
      loadConfig(priceFetcherConfigSchema, {
        PORT: '0',
        KAFKA_BROKERS: kafkaBrokers().join(','),
        PRICES_TOPIC: topic,
        REDIS_URL: testRedisUrl,
        REDIS_KEY_PREFIX: `test:${suffix}:fetcher:`,
        PRICE_SOURCE: 'tsetmc',
        STOCKS: `${good.id}:${good.symbol},${bad.id}:${bad.symbol}`,
        TSETMC_BASE_URL: fixture.url,
        TSETMC_RETRIES: '0',
        FETCH_INTERVAL_MS: '200',
      }),
      logger,
    );
    await app.start();
    consumer = createKafka({ clientId: 't', brokers: kafkaBrokers(), logger }).consumer({
      groupId: `t-${suffix}`,
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => void received.push(decodePriceQuote(message.value)),
    });
  });

  afterAll(async () => {
    await consumer.disconnect();
    await app.stop();
    await fixture.stop();
    const redis = createRedis({ url: testRedisUrl, keyPrefix: '', logger });
    const keys = await redis.keys(`test:${suffix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  itAwayFromMidnight(
    'publishes each finished trade once, keyed by stock, and never a malformed answer',
    async () => {
      await eventually(
        async () => received.length,
        (count) => count >= 2,
        20_000,
      );
      // Several more cycles run; the checkpoint must keep them from publishing the same trades again.
      const cyclesBefore = fixture.calls.length;
      await eventually(
        async () => fixture.calls.length,
        (calls) => calls >= cyclesBefore + 6,
        10_000,
      );
      expect(received.map(({ symbol, seq, price }) => ({ symbol, seq, price }))).toEqual([
        { symbol: 'goodstock', seq: 1, price: 1000 },
        { symbol: 'goodstock', seq: 2, price: 1010 },
      ]);
      expect(received.every(({ stockId }) => stockId === good.id)).toBe(true);
    },
  );
});
