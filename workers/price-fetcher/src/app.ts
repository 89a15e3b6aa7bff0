import {
  createRedis,
  createWorkerApp,
  ensureTopics,
  redisReadiness,
  ownedTopicConfig,
  type Logger,
  type WorkerApp,
  type WorkerKit,
  type WorkerPart,
  createIdempotentProducer,
} from '@brokerage/common';
import { toExchangeMoment } from '@brokerage/price-fetcher-contract';
import { Counter, Gauge } from 'prom-client';
import { CheckpointStore } from './checkpoints';
import type { PriceFetcherConfig } from './config';
import { ListingsFollower } from './listings-follower';
import { PriceFetcher } from './price-fetcher';
import { CsvReplaySource, type ReplayState } from './sources/csv-replay-source';
import { readPriceCsv } from './sources/price-csv';
import type { PriceSource } from './sources/price-source';
import { BROWSER_HEADERS } from './sources/tsetmc-http';
import { TsetmcSource } from './sources/tsetmc-source';
import { StockList } from './stock-list';

export type PriceFetcherApp = WorkerApp;

export interface PriceFetcherClock {
  /** Epoch milliseconds: the real time, which says the exchange's day and the replay's progress. */
  now(): number;
}

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

function fetcherParts(
  config: PriceFetcherConfig,
  clock: PriceFetcherClock,
  { kafka, registry, logger }: WorkerKit,
): WorkerPart[] {
  const published = new Counter({
    name: 'price_quotes_published_total',
    help: 'Trades published to Kafka',
    registers: [registry],
  });
  const cancellations = new Counter({
    name: 'price_cancellations_published_total',
    help: 'Cancelled trades taken back (published as trade cancellations)',
    registers: [registry],
  });
  const failures = new Counter({
    name: 'price_fetch_failures_total',
    help: 'Stocks whose prices could not be fetched in a cycle',
    registers: [registry],
  });
  const catchUpSteps = new Counter({
    name: 'price_catch_up_days_total',
    help: 'Days of a stock caught up from the source history after downtime (one fetch each)',
    registers: [registry],
  });
  // Idempotent with one request in flight, retrying for as long as the broker is away: a retry
  // never duplicates or reorders, and nothing is checkpointed until the broker has acknowledged.
  const producer = createIdempotentProducer(kafka, {
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 10_000 },
  });
  const redis = createRedis({ url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, logger });

  let timer: NodeJS.Timeout | undefined;
  let cycle: Promise<void> | undefined;
  let stopping = false;
  let source: PriceSource | undefined;
  const list = new StockList();
  const follower = config.STOCKS_SUBGRAPH_URL
    ? new ListingsFollower({
        kafka,
        topic: config.STOCK_LISTINGS_TOPIC,
        groupPrefix: config.LISTINGS_CONSUMER_GROUP,
        stocksUrl: config.STOCKS_SUBGRAPH_URL,
        internalAuthSecret: config.INTERNAL_AUTH_SECRET,
        timeoutMs: config.SERVICE_TIMEOUT_MS,
        list,
        logger: logger.child({ component: 'listings' }),
      })
    : undefined;

  async function loadSource(): Promise<PriceSource> {
    if (config.PRICE_SOURCE === 'tsetmc') {
      return new TsetmcSource(
        {
          baseUrl: config.TSETMC_BASE_URL,
          timeoutMs: config.TSETMC_TIMEOUT_MS,
          retries: config.TSETMC_RETRIES,
          timeZone: config.EXCHANGE_TIME_ZONE,
          backfillDays: config.BACKFILL_MAX_DAYS,
          now: () => new Date(clock.now()),
          headers: { ...BROWSER_HEADERS, 'User-Agent': config.TSETMC_USER_AGENT, ...config.TSETMC_HEADERS },
          logger,
        },
        config.STOCKS ?? [],
      );
    }
    // The replay's start is kept in Redis, so that a restarted fetcher resumes the same replay.
    const fresh: ReplayState = {
      date: config.REPLAY_DATE ?? toExchangeMoment(new Date(clock.now()), config.EXCHANGE_TIME_ZONE).date,
      startedAtMs: clock.now(),
    };
    await redis.set('replay', JSON.stringify(fresh), 'NX');
    const state = JSON.parse((await redis.get('replay')) ?? JSON.stringify(fresh)) as ReplayState;
    logger.info(
      { date: state.date, startedAt: new Date(state.startedAtMs), speed: config.REPLAY_SPEED },
      'replaying CSV',
    );
    return new CsvReplaySource(readPriceCsv(config.CSV_PATH), state, {
      speed: config.REPLAY_SPEED,
      days: config.REPLAY_DAYS,
      closedWeekdays: config.REPLAY_CLOSED_WEEKDAYS,
      backfillDays: config.BACKFILL_MAX_DAYS,
      realNow: () => clock.now(),
    });
  }

  async function startFetching(): Promise<void> {
    // Followed from the stocks service; or, for the pipeline on its own, fixed at start.
    const stocks = follower ? list : new StockList(config.STOCKS ?? source!.stocks());
    new Gauge({
      name: 'price_fetcher_stocks',
      help: 'Stocks fetched each cycle (the stocks service lists them, or the fixed list)',
      registers: [registry],
      collect(this: Gauge) {
        this.set(stocks.current().length);
      },
    });
    const fetcher = new PriceFetcher(
      source!,
      () => stocks.current(),
      new CheckpointStore(redis),
      producer,
      config.PRICES_TOPIC,
      logger,
    );
    const runOnce = async () => {
      try {
        const report = await fetcher.runCycle();
        published.inc(report.published);
        cancellations.inc(report.cancellations);
        failures.inc(report.failedStocks.length);
        catchUpSteps.inc(report.catchUpSteps);
      } catch (error) {
        // Kafka or Redis unavailable: nothing was checkpointed, so the next cycle retries it all.
        logger.error({ err: error }, 'fetch cycle failed');
      }
    };
    const schedule = () => {
      if (stopping) return;
      timer = setTimeout(() => {
        cycle = runOnce().finally(schedule);
      }, config.FETCH_INTERVAL_MS);
    };
    cycle = runOnce().finally(schedule);
    logger.info(
      {
        source: source!.name,
        stocks: stocks.current().map(({ symbol }) => symbol),
        following: follower ? config.STOCK_LISTINGS_TOPIC : undefined,
        intervalMs: config.FETCH_INTERVAL_MS,
      },
      'fetching prices',
    );
  }

  return [
    { name: 'redis', stop: () => redis.quit(), ready: { redis: redisReadiness(redis) } },
    {
      name: 'kafka producer',
      start: async () => {
        await ensureTopics(kafka, [ownedTopicConfig(config.PRICES_TOPIC, config)]);
        // The listings topic is the stocks service's: it creates it (compacted) at its start, which
        // the follower's snapshot waits for.
        await producer.connect();
      },
      stop: () => producer.disconnect(),
    },
    {
      name: 'price source',
      start: async () => (source = await loadSource()),
      stop: async () => source?.close?.(),
    },
    {
      name: 'listings follower',
      start: async () => follower?.start(),
      stop: async () => follower?.stop(),
      ...(follower ? { failed: follower.failed } : {}),
    },
    {
      name: 'fetch cycle',
      start: startFetching,
      stop: async () => {
        stopping = true;
        clearTimeout(timer);
        await cycle;
      },
    },
  ];
}
