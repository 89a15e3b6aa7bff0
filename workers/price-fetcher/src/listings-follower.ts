import { randomUUID } from 'node:crypto';
import { InternalTokens } from '@brokerage/auth';
import { SubgraphClient } from '@brokerage/graphql';
import { consumerGaveUp, PLATFORM_CONSUMER_DEFAULTS } from '@brokerage/kafka';
import { decodeJson, type Logger } from '@brokerage/service';
import {
  STOCK_LISTINGS_QUERY,
  stockListingEventSchema,
  type StockListings,
} from '@brokerage/stocks-contract';
import type { Consumer, Kafka } from 'kafkajs';
import type { StockList } from './stock-list';

export interface ListingsFollowerOptions {
  kafka: Kafka;
  topic: string;
  /** The group's name before each process's own suffix. */
  groupPrefix: string;
  stocksUrl: string;
  internalAuthSecret: string;
  timeoutMs: number;
  list: StockList;
  logger: Logger;
  /** Called after an announcement changed the list. */
  onChange?: () => void;
}

/**
 * Keeps the fetcher's list of stocks as the stocks service (its owner) has it. At start it asks
 * the owner for the list and the version it is (`stockListings`, with this service's token),
 * retrying until the owner answers; then it reads the listings topic from its beginning in a
 * consumer group of this process's own (every fetcher must hear every announcement; nothing is
 * committed, the group goes when the process does), skipping what the snapshot already holds.
 * Subscribing after the snapshot loses nothing: the topic is read from its start, and an
 * announcement is published only after its change committed.
 */
export class ListingsFollower {
  private readonly consumer: Consumer;
  private stopped = false;
  /** Settles if the consumer gives up for good: the list would no longer follow, so the process should exit. */
  readonly failed: Promise<Error>;

  constructor(private readonly options: ListingsFollowerOptions) {
    this.consumer = options.kafka.consumer({
      ...PLATFORM_CONSUMER_DEFAULTS,
      groupId: `${options.groupPrefix}-${randomUUID()}`,
    });
    this.failed = consumerGaveUp(this.consumer);
  }

  async start(): Promise<void> {
    const { list, logger, topic } = this.options;
    list.reset(await this.snapshot());
    logger.info(
      { stocks: list.current().map(({ symbol }) => symbol) },
      'stock list loaded from the stocks service',
    );
    await this.consumer.connect();
    await this.consumer.subscribe({ topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        let event;
        try {
          event = decodeJson(stockListingEventSchema, message.value);
        } catch (error) {
          logger.error({ err: error, offset: message.offset }, 'unreadable stock listing skipped');
          return;
        }
        if (list.apply(event)) {
          logger.info(
            { stock: event.symbol, change: event.type, version: event.version },
            'stock list changed',
          );
          this.options.onChange?.();
        }
      },
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer.disconnect();
  }

  private async snapshot(): Promise<StockListings> {
    const { stocksUrl, internalAuthSecret, timeoutMs, logger } = this.options;
    const client = new SubgraphClient(
      'stocks',
      stocksUrl,
      timeoutMs,
      new InternalTokens(internalAuthSecret, 'price-fetcher'),
    );
    for (let attempt = 1; ; attempt += 1) {
      try {
        const { stockListings } = await client.request<{ stockListings: StockListings }>(
          STOCK_LISTINGS_QUERY,
          {},
        );
        return stockListings;
      } catch (error) {
        if (this.stopped) throw error;
        logger.warn({ err: error, attempt }, 'the stocks service did not give the stock list; asking again');
        await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 250 * 2 ** attempt)));
      }
    }
  }
}
