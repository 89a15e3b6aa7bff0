import { OffsetTracker } from '@brokerage/kafka';
import { inSpan, linksFrom, SpanKind, stopInOrder, type Logger } from '@brokerage/service';
import type { Consumer, KafkaMessage } from 'kafkajs';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { PriceIngestorConfig } from './config';
import type { MinuteSeriesStore } from './minute-series-store';
import { PriceBatch } from './price-batch';
import { QuoteReader } from './quote-reader';

/** One partition's batches whose Redis write is under way, and what may be committed. */
interface Lane {
  tracker: OffsetTracker;
  writes: Set<Promise<void>>;
}

/** Messages whose headers are read for the batch span's links (linksFrom keeps 16 at most). */
const LINK_SAMPLES = 64;

/**
 * The headers of at most LINK_SAMPLES messages spread evenly over the batch. A batch of thousands
 * of quotes comes from a handful of publish cycles of the fetcher, each one trace: a sample finds
 * them, where reading every message's headers cost a trace-context extraction per message.
 */
function sampledHeaders(messages: KafkaMessage[]): Array<KafkaMessage['headers']> {
  const step = Math.max(1, Math.floor(messages.length / LINK_SAMPLES));
  const headers: Array<KafkaMessage['headers']> = [];
  for (let i = 0; i < messages.length; i += step) headers.push(messages[i]!.headers);
  return headers;
}

export interface QuoteIngestionOptions {
  consumer: Consumer;
  store: MinuteSeriesStore;
  config: Pick<
    PriceIngestorConfig,
    'PRICES_TOPIC' | 'CONSUMER_GROUP' | 'PARTITIONS_CONCURRENTLY' | 'WRITES_IN_FLIGHT' | 'RETRY_DELAY_MS'
  >;
  logger: Logger;
  registry: Registry;
}

/**
 * Consumes price quotes into the minute series in Redis.
 *
 * kafkajs fetches the next batches only once every batch of the last fetch has been handled, so
 * awaiting the Redis write in the handler made fetch, decode, write and commit one serial chain.
 * Instead a batch's write is started and the handler returns: kafkajs fetches and decodes the next
 * batch while Redis applies this one. The fetch position (resolved offsets) thus runs ahead of
 * Redis, so kafkajs commits nothing itself: per partition an OffsetTracker commits only up to the
 * oldest batch whose write has not succeeded. A crash replays from there, and the writes are
 * idempotent: no minute is lost, none is counted twice.
 */
export class QuoteIngestion {
  private readonly consumed: Counter<'outcome'>;
  private readonly batchSeconds: Histogram<'topic'>;
  private readonly reader = new QuoteReader();
  private readonly topic: string;
  private readonly lanes = new Map<number, Lane>();
  private running = false;
  private stopping = false;
  private committing: Promise<void> | undefined;
  private commitAgain = false;

  constructor(private readonly options: QuoteIngestionOptions) {
    this.topic = options.config.PRICES_TOPIC;
    this.consumed = new Counter({
      name: 'price_quotes_consumed_total',
      help: 'Price messages consumed, by outcome',
      labelNames: ['outcome'],
      registers: [options.registry],
    });
    this.batchSeconds = new Histogram({
      name: 'kafka_batch_processing_seconds',
      help: 'Time from reading a batch to having it in Redis',
      labelNames: ['topic'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [options.registry],
    });
  }

  async start(): Promise<void> {
    const { consumer, config, logger } = this.options;
    const { topic, lanes } = this;
    await consumer.subscribe({ topic, fromBeginning: true });
    // Partitions taken away in a rebalance are no longer ours to commit.
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const assigned = new Set(payload.memberAssignment[topic] ?? []);
      for (const partition of lanes.keys()) if (!assigned.has(partition)) lanes.delete(partition);
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: config.PARTITIONS_CONCURRENTLY,
      eachBatch: async (payload) => {
        const { batch } = payload;
        if (this.stopping || !payload.isRunning() || payload.isStale() || batch.messages.length === 0) return;
        const { partition, messages } = batch;
        const lane = this.laneOf(partition);
        const first = batch.firstOffset()!;
        lane.tracker.begin(first, batch.lastOffset());
        const work = this.ingest(partition, messages).then(
          () => {
            lane.tracker.finish(first);
            this.requestCommit();
          },
          (error: unknown) => this.rewind(partition, lane, error),
        );
        lane.writes.add(work);
        void work.finally(() => lane.writes.delete(work));
        // Moves the fetch position only; what is committed is decided by the lane's tracker.
        payload.resolveOffset(batch.lastOffset());
        // Bounded: the next fetch waits while this partition has as many batches as allowed under way.
        while (lane.writes.size >= config.WRITES_IN_FLIGHT) await Promise.race(lane.writes);
        await payload.heartbeat();
      },
    });
    this.running = true;
    logger.info({ topic, group: config.CONSUMER_GROUP }, 'ingesting prices');
  }

  /** Stops taking batches but stays in the group, so that what lands can still be committed. */
  stop(): Promise<void> {
    return stopInOrder(
      [
        [
          'kafka fetching',
          async () => {
            this.stopping = true;
            if (this.running) this.options.consumer.pause([{ topic: this.topic }]);
          },
        ],
        [
          'writes under way',
          () => Promise.allSettled([...this.lanes.values()].flatMap((lane) => [...lane.writes])),
        ],
        [
          'final commit',
          async () => {
            await this.committing;
            await this.commitFinished();
          },
        ],
      ],
      this.options.logger,
    );
  }

  private laneOf(partition: number): Lane {
    let lane = this.lanes.get(partition);
    if (!lane) {
      lane = { tracker: new OffsetTracker(), writes: new Set() };
      this.lanes.set(partition, lane);
    }
    return lane;
  }

  /** Commits what the trackers allow, every partition in one request. */
  private async commitFinished(): Promise<void> {
    const commits = [...this.lanes].flatMap(([partition, lane]) => {
      const offset = lane.tracker.committable();
      return offset === undefined ? [] : [{ partition, offset, lane }];
    });
    if (commits.length === 0) return;
    try {
      await this.options.consumer.commitOffsets(
        commits.map(({ partition, offset }) => ({ topic: this.topic, partition, offset })),
      );
      for (const { lane, offset } of commits) lane.tracker.committed(offset);
    } catch (error) {
      // E.g. during a rebalance: the next write's commit, or the partition's next owner, commits it.
      this.options.logger.debug({ err: error }, 'commit deferred');
    }
  }

  /** Commits after a write lands; writes landing during a commit are covered by one more. */
  private requestCommit(): void {
    if (this.committing) {
      this.commitAgain = true;
      return;
    }
    this.committing = (async () => {
      do {
        this.commitAgain = false;
        await this.commitFinished();
      } while (this.commitAgain);
    })().finally(() => (this.committing = undefined));
  }

  /**
   * A write failed (Redis down, say): the fetch position is past batches that are not in Redis.
   * Read the partition again from its oldest unwritten batch, after a pause so that a Redis that
   * is down is not hammered. The lane starts afresh: its batches are read again, and writes of the
   * old lane still under way can no longer move its commits.
   */
  private rewind(partition: number, lane: Lane, error: unknown): void {
    const { consumer, config, logger } = this.options;
    const { topic } = this;
    logger.error({ err: error, partition }, 'writing prices to Redis failed; reading the partition again');
    if (this.lanes.get(partition) !== lane || this.stopping) return;
    this.lanes.delete(partition);
    const offset = lane.tracker.resumeOffset();
    if (offset !== undefined) consumer.seek({ topic, partition, offset });
    consumer.pause([{ topic, partitions: [partition] }]);
    setTimeout(() => {
      if (!this.stopping) consumer.resume([{ topic, partitions: [partition] }]);
    }, config.RETRY_DELAY_MS).unref();
  }

  /**
   * Decodes a batch into its fold and writes it. Started after a macrotask, once kafkajs has sent
   * its next fetch: decoding then overlaps the broker preparing that fetch instead of delaying it.
   */
  private async ingest(partition: number, messages: KafkaMessage[]): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    await inSpan(
      'price-ingestor',
      `ingest ${this.topic}`,
      {
        kind: SpanKind.CONSUMER,
        links: linksFrom(sampledHeaders(messages)),
        attributes: { partition, messages: messages.length },
      },
      () => this.ingestNow(partition, messages),
    );
  }

  private async ingestNow(partition: number, messages: KafkaMessage[]): Promise<void> {
    const stopTimer = this.batchSeconds.startTimer({ topic: this.topic });
    const batch = new PriceBatch();
    let applied = 0;
    for (const message of messages) {
      try {
        const cancellation = this.reader.read(message.value, batch.fold);
        if (cancellation) batch.takeBack(cancellation);
        applied += 1;
      } catch (error) {
        // A message that can never be applied must not block the partition: log it and move on.
        this.consumed.inc({ outcome: 'invalid' });
        this.options.logger.error(
          { err: error, partition, offset: message.offset },
          'invalid price message skipped',
        );
      }
    }
    await this.options.store.writeBatch(batch);
    this.consumed.inc({ outcome: 'applied' }, applied);
    stopTimer();
  }
}
