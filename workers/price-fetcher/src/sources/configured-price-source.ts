import type { Redis } from '@brokerage/redis';
import type { Logger } from '@brokerage/service';
import { toExchangeMoment } from '@brokerage/price-fetcher-contract';
import type { PriceFetcherConfig } from '../config';
import { CsvReplaySource, type ReplayState } from './csv-replay-source';
import { readPriceCsv } from './price-csv';
import type { PriceSource } from './price-source';
import { BROWSER_HEADERS } from './tsetmc-http';
import { TsetmcSource } from './tsetmc-source';

export interface ConfiguredPriceSourceOptions {
  config: PriceFetcherConfig;
  /** Keeps the CSV replay's start. */
  redis: Redis;
  /** Epoch milliseconds: the real time, which says the exchange's day and the replay's progress. */
  now: () => number;
  logger: Logger;
}

/**
 * The price source PRICE_SOURCE names (the exchange's TSETMC API, or the CSV replay), loaded at
 * start and closed at stop. The replay's start is kept in Redis, so that a restarted fetcher
 * resumes the same replay.
 */
export class ConfiguredPriceSource {
  private loaded: PriceSource | undefined;

  constructor(private readonly options: ConfiguredPriceSourceOptions) {}

  async start(): Promise<void> {
    this.loaded = this.options.config.PRICE_SOURCE === 'tsetmc' ? this.tsetmc() : await this.csvReplay();
  }

  async stop(): Promise<void> {
    this.loaded?.close?.();
  }

  /** The loaded source: there is one once started. */
  get current(): PriceSource {
    if (!this.loaded) throw new Error('the price source is not loaded yet');
    return this.loaded;
  }

  private tsetmc(): PriceSource {
    const { config, now, logger } = this.options;
    return new TsetmcSource(
      {
        baseUrl: config.TSETMC_BASE_URL,
        timeoutMs: config.TSETMC_TIMEOUT_MS,
        retries: config.TSETMC_RETRIES,
        timeZone: config.EXCHANGE_TIME_ZONE,
        backfillDays: config.BACKFILL_MAX_DAYS,
        now: () => new Date(now()),
        headers: { ...BROWSER_HEADERS, 'User-Agent': config.TSETMC_USER_AGENT, ...config.TSETMC_HEADERS },
        logger,
      },
      config.STOCKS ?? [],
    );
  }

  private async csvReplay(): Promise<PriceSource> {
    const { config, redis, now, logger } = this.options;
    const fresh: ReplayState = {
      date: config.REPLAY_DATE ?? toExchangeMoment(new Date(now()), config.EXCHANGE_TIME_ZONE).date,
      startedAtMs: now(),
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
      realNow: () => now(),
    });
  }
}
