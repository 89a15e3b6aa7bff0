import {
  createKafka,
  createMetrics,
  createRedis,
  decodePriceQuote,
  ensureTopics,
  redisReadiness,
  startOpsServer,
  stopInOrder,
  topicConfig,
  type Logger,
  type PriceQuote,
} from '@brokerage/common';
import { Counter, Histogram } from 'prom-client';
import type { PriceIngestorConfig } from './config';
import { MinuteSeriesStore } from './minute-series-store';

export interface PriceIngestorApp {
  start(): Promise<{ url: string }>;
  stop(): Promise<void>;
}

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
    help: 'Time to apply one batch to Redis and commit it',
    labelNames: ['topic'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [metrics.registry],
  });
  const kafka = createKafka({ clientId: 'price-ingestor', brokers: config.KAFKA_BROKERS, logger });
  const consumer = kafka.consumer({
    groupId: config.CONSUMER_GROUP,
    sessionTimeout: config.KAFKA_SESSION_TIMEOUT_MS,
    heartbeatInterval: 3_000,
    allowAutoTopicCreation: false,
  });
  const redis = createRedis({ url: config.REDIS_URL, keyPrefix: config.PRICES_KEY_PREFIX, logger });
  const store = new MinuteSeriesStore(redis);
  let ops: Awaited<ReturnType<typeof startOpsServer>> | undefined;

  return {
    async start() {
      await ensureTopics(kafka, [topicConfig(config.PRICES_TOPIC, 3, config.KAFKA_REPLICATION_FACTOR)]);
      await consumer.connect();
      await consumer.subscribe({ topic: config.PRICES_TOPIC, fromBeginning: true });
      await consumer.run({
        // kafkajs commits after each batch, but only offsets resolved below, i.e. written to Redis.
        autoCommit: true,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: config.PARTITIONS_CONCURRENTLY,
        eachBatch: async (payload) => {
          const { batch } = payload;
          if (!payload.isRunning() || payload.isStale() || batch.messages.length === 0) return;
          const stopTimer = batchSeconds.startTimer({ topic: batch.topic });
          const quotes: PriceQuote[] = [];
          for (const message of batch.messages) {
            try {
              quotes.push(decodePriceQuote(message.value));
            } catch (error) {
              // A message that can never be applied must not block the partition: log it and move on.
              consumed.inc({ outcome: 'invalid' });
              logger.error(
                { err: error, partition: batch.partition, offset: message.offset },
                'invalid price message skipped',
              );
            }
          }
          await store.apply(quotes);
          consumed.inc({ outcome: 'applied' }, quotes.length);
          // Resolved only now that Redis has the batch: a crash before this line replays it, harmlessly.
          payload.resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
          await payload.heartbeat();
          stopTimer();
        },
      });
      ops = await startOpsServer({
        port: config.PORT,
        host: config.HOST,
        logger,
        registry: metrics.registry,
        checks: { redis: redisReadiness(redis) },
      });
      logger.info({ topic: config.PRICES_TOPIC, group: config.CONSUMER_GROUP }, 'ingesting prices');
      return { url: ops.url };
    },

    async stop() {
      ops?.markDraining();
      // Consumer first: it finishes the batch in hand and leaves the group; then the rest.
      await stopInOrder(
        [
          ['kafka consumer', () => consumer.disconnect()],
          ['redis', () => redis.quit()],
          ['ops server', async () => ops?.stop()],
        ],
        logger,
      );
    },
  };
}
