import {
  createKafka,
  createMetrics,
  createRedis,
  inSpan,
  consumerGaveUp,
  createInstrumentedConsumer,
  linksFrom,
  OffsetTracker,
  redisReadiness,
  SpanKind,
  startOpsServer,
  stopInOrder,
  waitForTopics,
  type Logger,
} from '@brokerage/common';
import type { KafkaMessage } from 'kafkajs';
import { Counter, Histogram } from 'prom-client';
import type { PriceIngestorConfig } from './config';
import { MinuteSeriesStore } from './minute-series-store';
import { PriceBatch } from './price-batch';
import { QuoteReader } from './quote-reader';

export interface PriceIngestorApp {
  start(): Promise<{ url: string }>;
  stop(): Promise<void>;
  /** Settles if the Kafka consumer gives up for good: the process should then exit. */
  failed: Promise<Error>;
}

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
export function createApp(config: PriceIngestorConfig, logger: Logger): PriceIngestorApp {
  const metrics = createMetrics('price-ingestor');
  const consumed = new Counter({
    name: 'price_quotes_consumed_total',
    help: 'Price messages consumed, by outcome',
    labelNames: ['outcome'],
    registers: [metrics.registry],
  });
  const batchSeconds = new Histogram({
    name: 'kafka_batch_processing_seconds',
    help: 'Time from reading a batch to having it in Redis',
    labelNames: ['topic'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [metrics.registry],
  });
  const kafka = createKafka({
    clientId: 'price-ingestor',
    brokers: config.KAFKA_BROKERS,
    security: config,
    logger,
  });
  const admin = kafka.admin();
  const consumer = createInstrumentedConsumer(kafka, {
    groupId: config.CONSUMER_GROUP,
    sessionTimeout: config.KAFKA_SESSION_TIMEOUT_MS,
    heartbeatInterval: 3_000,
    admin,
    topics: [config.PRICES_TOPIC],
    registry: metrics.registry,
  });
  const redis = createRedis({ url: config.REDIS_URL, keyPrefix: config.PRICES_KEY_PREFIX, logger });
  const store = new MinuteSeriesStore(redis, {
    pointsChannelPrefix: config.PRICE_POINTS_CHANNEL_PREFIX || undefined,
  });
  const reader = new QuoteReader();
  const topic = config.PRICES_TOPIC;
  const lanes = new Map<number, Lane>();
  let running = false;
  let stopping = false;
  let committing: Promise<void> | undefined;
  let commitAgain = false;
  let ops: Awaited<ReturnType<typeof startOpsServer>> | undefined;

  function laneOf(partition: number): Lane {
    let lane = lanes.get(partition);
    if (!lane) {
      lane = { tracker: new OffsetTracker(), writes: new Set() };
      lanes.set(partition, lane);
    }
    return lane;
  }

  /** Commits what the trackers allow, every partition in one request. */
  async function commitFinished(): Promise<void> {
    const commits = [...lanes].flatMap(([partition, lane]) => {
      const offset = lane.tracker.committable();
      return offset === undefined ? [] : [{ partition, offset, lane }];
    });
    if (commits.length === 0) return;
    try {
      await consumer.commitOffsets(commits.map(({ partition, offset }) => ({ topic, partition, offset })));
      for (const { lane, offset } of commits) lane.tracker.committed(offset);
    } catch (error) {
      // E.g. during a rebalance: the next write's commit, or the partition's next owner, commits it.
      logger.debug({ err: error }, 'commit deferred');
    }
  }

  /** Commits after a write lands; writes landing during a commit are covered by one more. */
  function requestCommit(): void {
    if (committing) {
      commitAgain = true;
      return;
    }
    committing = (async () => {
      do {
        commitAgain = false;
        await commitFinished();
      } while (commitAgain);
    })().finally(() => (committing = undefined));
  }

  /**
   * A write failed (Redis down, say): the fetch position is past batches that are not in Redis.
   * Read the partition again from its oldest unwritten batch, after a pause so that a Redis that
   * is down is not hammered. The lane starts afresh: its batches are read again, and writes of the
   * old lane still under way can no longer move its commits.
   */
  function rewind(partition: number, lane: Lane, error: unknown): void {
    logger.error({ err: error, partition }, 'writing prices to Redis failed; reading the partition again');
    if (lanes.get(partition) !== lane || stopping) return;
    lanes.delete(partition);
    const offset = lane.tracker.resumeOffset();
    if (offset !== undefined) consumer.seek({ topic, partition, offset });
    consumer.pause([{ topic, partitions: [partition] }]);
    setTimeout(() => {
      if (!stopping) consumer.resume([{ topic, partitions: [partition] }]);
    }, config.RETRY_DELAY_MS).unref();
  }

  /**
   * Decodes a batch into its fold and writes it. Started after a macrotask, once kafkajs has sent
   * its next fetch: decoding then overlaps the broker preparing that fetch instead of delaying it.
   */
  async function ingest(partition: number, messages: KafkaMessage[]): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    await inSpan(
      'price-ingestor',
      `ingest ${topic}`,
      {
        kind: SpanKind.CONSUMER,
        links: linksFrom(sampledHeaders(messages)),
        attributes: { partition, messages: messages.length },
      },
      () => ingestNow(partition, messages),
    );
  }

  async function ingestNow(partition: number, messages: KafkaMessage[]): Promise<void> {
    const stopTimer = batchSeconds.startTimer({ topic });
    const batch = new PriceBatch();
    let applied = 0;
    for (const message of messages) {
      try {
        const cancellation = reader.read(message.value, batch.fold);
        if (cancellation) batch.takeBack(cancellation);
        applied += 1;
      } catch (error) {
        // A message that can never be applied must not block the partition: log it and move on.
        consumed.inc({ outcome: 'invalid' });
        logger.error({ err: error, partition, offset: message.offset }, 'invalid price message skipped');
      }
    }
    await store.writeBatch(batch);
    consumed.inc({ outcome: 'applied' }, applied);
    stopTimer();
  }

  return {
    failed: consumerGaveUp(consumer),
    async start() {
      // Independent round trips, side by side; the subscription needs the topic to exist. It does
      // but on a first deployment, so one metadata request on the admin client (connected anyway,
      // for the lag metric) checks; waitForTopics' own client (a connection and three requests
      // more, about 10 ms of every start and restart) only runs, until the price fetcher (the
      // topic's owner) has created it, when it is missing.
      const [, topicExists] = await Promise.all([
        consumer.connect(),
        admin.connect().then(async () => (await admin.listTopics()).includes(topic)),
      ]);
      if (!topicExists) await waitForTopics(kafka, [topic], { logger });
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
          if (stopping || !payload.isRunning() || payload.isStale() || batch.messages.length === 0) return;
          const { partition, messages } = batch;
          const lane = laneOf(partition);
          const first = batch.firstOffset()!;
          lane.tracker.begin(first, batch.lastOffset());
          const work = ingest(partition, messages).then(
            () => {
              lane.tracker.finish(first);
              requestCommit();
            },
            (error: unknown) => rewind(partition, lane, error),
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
      running = true;
      ops = await startOpsServer({
        port: config.PORT,
        host: config.HOST,
        logger,
        registry: metrics.registry,
        checks: { redis: redisReadiness(redis) },
      });
      logger.info({ topic, group: config.CONSUMER_GROUP }, 'ingesting prices');
      return { url: ops.url };
    },

    async stop() {
      ops?.markDraining();
      await stopInOrder(
        [
          // Stop taking batches but stay in the group, so that what lands can still be committed.
          [
            'kafka fetching',
            async () => {
              stopping = true;
              if (running) consumer.pause([{ topic }]);
            },
          ],
          [
            'writes under way',
            () => Promise.allSettled([...lanes.values()].flatMap((lane) => [...lane.writes])),
          ],
          [
            'final commit',
            async () => {
              await committing;
              await commitFinished();
            },
          ],
          ['kafka consumer', () => consumer.disconnect()],
          ['kafka admin', () => admin.disconnect()],
          ['redis', () => redis.quit()],
          ['ops server', async () => ops?.stop()],
        ],
        logger,
      );
    },
  };
}
