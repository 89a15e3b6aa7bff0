import { createKafka } from '@brokerage/kafka';
import { createRedis, type Redis } from '@brokerage/redis';
import { createLogger, loadConfig } from '@brokerage/service';
import { decodePriceMessage } from '@brokerage/price-fetcher-contract';
import { seriesKeys, type PriceSeries } from '@brokerage/price-ingestor-contract';
import type { Consumer } from 'kafkajs';
import { kafkaBrokers, testRedisUrl, uniqueSuffix } from '../../../test/support/services';
import { createApp as createIngestor, type PriceIngestorApp } from '../../price-ingestor/src/app';
import { priceIngestorConfigSchema } from '../../price-ingestor/src/config';
import { createApp, type PriceFetcherApp } from '../src/app';
import { priceFetcherConfigSchema } from '../src/config';

/** One message the fetcher published, as the topic holds it, in the order of its partition. */
export interface Published {
  kind: 'trade' | 'cancellation';
  stockId: string;
  date: string;
  time: string;
  seq: number;
}

/**
 * The fetcher (in-process, on a clock the test sets), the real broker, the ingestor and Redis,
 * with a consumer of its own recording every message the fetcher publishes: the fetcher can be
 * stopped, the clock moved on, and the fetcher started again, as after downtime.
 */
export async function startFetcherPipeline(fetcherEnv: Record<string, string>, startMs: number) {
  const suffix = uniqueSuffix();
  const topic = `test.prices.${suffix}`;
  const seriesPrefix = `test:${suffix}:prices:`;
  const logger = createLogger({ service: 't', level: 'silent' });
  const clock = { nowMs: startMs };
  const published: Published[] = [];
  const redis: Redis = createRedis({ url: testRedisUrl, keyPrefix: seriesPrefix, logger });
  const fetcherConfig = loadConfig(priceFetcherConfigSchema, {
    PORT: '0',
    KAFKA_BROKERS: kafkaBrokers().join(','),
    PRICES_TOPIC: topic,
    REDIS_URL: testRedisUrl,
    REDIS_KEY_PREFIX: `test:${suffix}:fetcher:`,
    FETCH_INTERVAL_MS: '100',
    ...fetcherEnv,
  });
  let fetcher: PriceFetcherApp | undefined;
  async function startFetcher(): Promise<void> {
    fetcher = createApp(fetcherConfig, logger, { now: () => clock.nowMs });
    await fetcher.start();
  }
  await startFetcher();

  const ingestor: PriceIngestorApp = createIngestor(
    loadConfig(priceIngestorConfigSchema, {
      PORT: '0',
      KAFKA_BROKERS: kafkaBrokers().join(','),
      PRICES_TOPIC: topic,
      CONSUMER_GROUP: `ingestor-${suffix}`,
      PRICES_KEY_PREFIX: seriesPrefix,
    }),
    logger,
  );
  await ingestor.start();
  const consumer: Consumer = createKafka({ clientId: 't', brokers: kafkaBrokers(), logger }).consumer({
    groupId: `t-${suffix}`,
    // Fetches that wait at most half a second: its disconnect waits for the one in flight.
    maxWaitTimeInMs: 500,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const { quote, cancellation } = decodePriceMessage(message.value);
      if (quote) published.push({ kind: 'trade', ...quote });
      else
        published.push({
          kind: 'cancellation',
          stockId: cancellation.stockId,
          date: cancellation.date,
          ...cancellation.cancelled,
        });
    },
  });

  return {
    clock,
    published,
    startFetcher,
    async stopFetcher(): Promise<void> {
      await fetcher?.stop();
      fetcher = undefined;
    },
    /** The ingestor's minute series of `symbol` on `date`, null when it has none. */
    async series(symbol: string, date: string): Promise<PriceSeries | null> {
      return JSON.parse((await redis.get(seriesKeys.day(symbol, date))) ?? 'null') as PriceSeries | null;
    },
    /** The ingestor's series of `symbol`'s latest day (the bare key). */
    async latest(symbol: string): Promise<PriceSeries | null> {
      return JSON.parse((await redis.get(seriesKeys.latest(symbol))) ?? 'null') as PriceSeries | null;
    },
    /** Published messages of a kind counted by `stockId date #seq`: a doubled one counts 2. */
    counts(kind: Published['kind']): Map<string, number> {
      const counts = new Map<string, number>();
      for (const message of published.filter((candidate) => candidate.kind === kind)) {
        const key = `${message.stockId} ${message.date} #${message.seq}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      return counts;
    },
    async stop(): Promise<void> {
      await consumer.disconnect();
      await fetcher?.stop();
      await ingestor.stop();
      const raw = createRedis({ url: testRedisUrl, keyPrefix: '', logger });
      const keys = await raw.keys(`test:${suffix}:*`);
      if (keys.length > 0) await raw.del(...keys);
      raw.disconnect();
      redis.disconnect();
    },
  };
}
export type FetcherPipeline = Awaited<ReturnType<typeof startFetcherPipeline>>;

/** The fetcher's settings for the TSETMC stand-in at `url`, fetching `stock` alone. */
export function tsetmcSourceEnv(url: string, stock: { id: string; symbol: string }): Record<string, string> {
  return {
    PRICE_SOURCE: 'tsetmc',
    STOCKS: `${stock.id}:${stock.symbol}`,
    TSETMC_BASE_URL: url,
    TSETMC_TIMEOUT_MS: '500',
    TSETMC_RETRIES: '3',
  };
}

/** Trades and cancellations of one stock in the order they were published (one key, one partition). */
export function inPublishedOrder(published: Published[], stockId: string): boolean {
  const keys = published
    .filter((message) => message.stockId === stockId && message.kind === 'trade')
    .map(({ date, time, seq }) => `${date} ${time} ${String(seq).padStart(9, '0')}`);
  return keys.every((key, index) => index === 0 || keys[index - 1]! <= key);
}
