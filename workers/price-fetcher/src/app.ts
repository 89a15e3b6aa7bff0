import { closeRedis, createRedis, redisReadiness } from '@brokerage/redis';
import { type Logger, type ServicePart } from '@brokerage/service';
import { createWorkerApp, type WorkerApp, type WorkerKit } from '@brokerage/worker';
import { CheckpointStore } from './checkpoints';
import type { PriceFetcherConfig } from './config';
import { CycleMetrics } from './cycle-metrics';
import { FetchCycles } from './fetch-cycles';
import { QuotePublishing } from './quote-publishing';
import { ConfiguredPriceSource } from './sources/configured-price-source';
import { StocksToFetch } from './stocks-to-fetch';

export type PriceFetcherApp = WorkerApp;

export interface PriceFetcherClock {
  /** Epoch milliseconds: the real time, which says the exchange's day and the replay's progress. */
  now(): number;
}

/**
 * The price fetcher: every FETCH_INTERVAL_MS (a minute), the listed stocks' trades (and their
 * cancellations) from the price source to the prices topic, each stock from its checkpoint in Redis.
 */
export function createApp(
  config: PriceFetcherConfig,
  logger: Logger,
  clock: PriceFetcherClock = { now: Date.now },
): PriceFetcherApp {
  return createWorkerApp({
    name: 'price-fetcher',
    config,
    logger,
    parts: (kit) => fetcherParts(config, clock, kit),
  });
}

/** The parts in start order: each one relies on those before it. */
function fetcherParts(
  config: PriceFetcherConfig,
  clock: PriceFetcherClock,
  { kafka, registry, logger }: WorkerKit,
): ServicePart[] {
  const metrics = new CycleMetrics(registry);
  const publishing = new QuotePublishing(kafka, config);
  const redis = createRedis({ url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, logger });
  const source = new ConfiguredPriceSource({ config, redis, now: () => clock.now(), logger });
  const stocks = new StocksToFetch({ config, kafka, logger });
  const cycles = new FetchCycles({
    config,
    stocks,
    checkpoints: new CheckpointStore(redis),
    producer: publishing.producer,
    metrics,
    logger,
  });

  return [
    { name: 'redis', stop: () => closeRedis(redis), ready: { redis: redisReadiness(redis) } },
    { name: 'kafka producer', start: () => publishing.start(), stop: () => publishing.stop() },
    { name: 'price source', start: () => source.start(), stop: () => source.stop() },
    {
      name: 'listings follower',
      start: () => stocks.start(),
      stop: () => stocks.stop(),
      ...(stocks.failed ? { failed: stocks.failed } : {}),
    },
    { name: 'fetch cycle', start: async () => cycles.start(source.current), stop: () => cycles.stop() },
  ];
}
