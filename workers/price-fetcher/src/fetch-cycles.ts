import type { Logger } from '@brokerage/service';
import type { Producer } from 'kafkajs';
import type { CheckpointStore } from './checkpoints';
import type { PriceFetcherConfig } from './config';
import type { CycleMetrics } from './cycle-metrics';
import { FetchSchedule } from './fetch-schedule';
import { PriceFetcher } from './price-fetcher';
import type { PriceSource } from './sources/price-source';
import type { StocksToFetch } from './stocks-to-fetch';

export interface FetchCyclesOptions {
  config: Pick<PriceFetcherConfig, 'FETCH_INTERVAL_MS' | 'PRICES_TOPIC'>;
  stocks: StocksToFetch;
  checkpoints: CheckpointStore;
  producer: Producer;
  metrics: CycleMetrics;
  logger: Logger;
}

/**
 * The fetch cycles (PriceFetcher) on their schedule (FetchSchedule), each cycle's report counted.
 * A cycle that fails (Kafka or Redis unavailable) is logged, and the next one retries it all, as
 * nothing of it was checkpointed.
 */
export class FetchCycles {
  private readonly schedule: FetchSchedule;

  constructor(private readonly options: FetchCyclesOptions) {
    this.schedule = new FetchSchedule(options.config.FETCH_INTERVAL_MS);
  }

  /** Starts fetching the stocks from `source`. */
  start(source: PriceSource): void {
    const { config, checkpoints, producer, metrics, logger } = this.options;
    const stocks = this.options.stocks.listFor(source);
    metrics.countStocks(stocks);
    const fetcher = new PriceFetcher(
      source,
      () => stocks.current(),
      checkpoints,
      producer,
      config.PRICES_TOPIC,
      logger,
    );
    this.schedule.start(async () => {
      try {
        metrics.record(await fetcher.runCycle());
      } catch (error) {
        logger.error({ err: error }, 'fetch cycle failed');
      }
    });
    logger.info(
      {
        source: source.name,
        stocks: stocks.current().map(({ symbol }) => symbol),
        following: this.options.stocks.followedTopic,
        intervalMs: config.FETCH_INTERVAL_MS,
      },
      'fetching prices',
    );
  }

  /** Runs no further cycle and waits for the one in progress. */
  stop(): Promise<void> {
    return this.schedule.stop();
  }
}
