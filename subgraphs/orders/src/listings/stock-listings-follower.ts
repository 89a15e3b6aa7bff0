import { consumerGaveUp, PLATFORM_CONSUMER_DEFAULTS } from '@brokerage/kafka';
import { decodeJson, type Logger } from '@brokerage/service';
import { stockListingEventSchema, type StockListingEvent } from '@brokerage/stocks-contract';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import { Counter, type Registry } from 'prom-client';
import type { StockListingsRepository } from '../db/stock-listings-repository';

export interface StockListingsFollowerOptions {
  kafka: Kafka;
  /** Asked whether the topic exists yet: the stocks service, its owner, creates it. */
  admin: Admin;
  topic: string;
  groupId: string;
  listings: StockListingsRepository;
  logger: Logger;
  registry: Registry;
}

/**
 * Keeps the orders database's view of the list of stocks (`stock_listings`) as the stocks service
 * announces it on its listings topic. The topic is compacted (the latest announcement of every
 * stock stays), so the view is rebuilt by reading it from its start at every start of the
 * service: the group commits nothing, and every replica that is given a partition reads it from
 * its beginning again. Applying is idempotent by the list's version, so those replays, repeats
 * and several replicas writing the one table change nothing twice, and the view catches up even
 * after the database was restored from an older backup. Until the stocks service has created the
 * topic, the follower waits for it in the background; the view the database holds stands meanwhile.
 */
export class StockListingsFollower {
  private readonly consumer: Consumer;
  private readonly messages: Counter<'kind'>;
  private readonly startFailed: Promise<Error>;
  private reportStartFailure: (error: Error) => void = () => undefined;
  private stopped = false;
  /** Settles if the follower gives up for good: the view would no longer follow, so the process should exit. */
  readonly failed: Promise<Error>;

  constructor(private readonly options: StockListingsFollowerOptions) {
    this.consumer = options.kafka.consumer({ ...PLATFORM_CONSUMER_DEFAULTS, groupId: options.groupId });
    this.startFailed = new Promise((resolve) => (this.reportStartFailure = resolve));
    this.failed = Promise.race([consumerGaveUp(this.consumer), this.startFailed]);
    this.messages = new Counter({
      name: 'orders_listing_messages_total',
      help: 'Announcements read from the stock listings topic, by kind (listing, invalid)',
      labelNames: ['kind'],
      registers: [options.registry],
    });
  }

  /** Starts following in the background, once the topic exists. */
  start(): void {
    this.follow().catch((error: unknown) => {
      if (!this.stopped) this.reportStartFailure(error instanceof Error ? error : new Error(String(error)));
    });
  }

  private async follow(): Promise<void> {
    const { admin, topic, listings, logger } = this.options;
    for (let attempt = 1; !(await admin.listTopics()).includes(topic); attempt += 1) {
      if (this.stopped) return;
      if (attempt === 1)
        logger.warn({ topic }, 'waiting for the stocks service to create the listings topic');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    if (this.stopped) return;
    await this.consumer.connect();
    await this.consumer.subscribe({ topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatch: async (payload) => {
        const { batch } = payload;
        if (!payload.isRunning() || payload.isStale()) return;
        const events: StockListingEvent[] = [];
        for (const message of batch.messages) {
          try {
            events.push(decodeJson(stockListingEventSchema, message.value));
          } catch (error) {
            this.messages.inc({ kind: 'invalid' });
            logger.error(
              { err: error, partition: batch.partition, offset: message.offset },
              'unreadable stock listing skipped',
            );
          }
        }
        const changed = await listings.apply(events);
        this.messages.inc({ kind: 'listing' }, events.length);
        if (changed > 0)
          logger.info({ stocks: changed, partition: batch.partition }, 'stock listings changed');
      },
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer.disconnect();
  }
}
