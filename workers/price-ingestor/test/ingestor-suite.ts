import { createKafka, ensureTopics, topicConfig } from '@brokerage/kafka';
import { createRedis, type Redis } from '@brokerage/redis';
import { loadConfig } from '@brokerage/service';
import type { Kafka } from 'kafkajs';
import {
  deletePrefixedKeys,
  deleteTopics,
  kafkaBrokers,
  testLogger,
  testRedisUrl,
  uniqueSuffix,
} from '../../../test/support/services';
import { createApp, type PriceIngestorApp } from '../src/app';
import { priceIngestorConfigSchema } from '../src/config';

/**
 * What a price ingestor integration suite runs in: a prices topic, a consumer group and a Redis
 * key prefix of its own, clients of the real broker and Redis, and ingestors on all three.
 */
export interface IngestorSuite {
  topic: string;
  group: string;
  /** The suite's Redis key prefix, under which the ingestors write the series. */
  prefix: string;
  kafka: Kafka;
  /** A Redis client under the suite's key prefix: keys read and written as the ingestors see them. */
  redis: Redis;
  /** An ingestor on the suite's topic, group and prefix, not started; `settings` go on top. */
  createIngestor(settings?: Record<string, string>): PriceIngestorApp;
  /** The same, started. */
  startIngestor(settings?: Record<string, string>): Promise<PriceIngestorApp>;
  /** The JSON value of a key (a series), or null where the key is missing. */
  readSeries(key: string): Promise<unknown>;
  /** Deletes the suite's keys and topic and closes its clients; run in afterAll. */
  close(): Promise<void>;
}

/**
 * Opens a suite's topic (3 partitions), unless `createTopic` is false: a suite that tests an
 * ingestor waiting for its topic creates it itself.
 */
export async function openIngestorSuite({ createTopic = true } = {}): Promise<IngestorSuite> {
  const suffix = uniqueSuffix();
  const topic = `test.prices.${suffix}`;
  const group = `ingestor-${suffix}`;
  const prefix = `test:${suffix}:`;
  const logger = testLogger('price-ingestor');
  const kafka = createKafka({ clientId: 'ingestor-test', brokers: kafkaBrokers(), logger });
  if (createTopic) await ensureTopics(kafka, [topicConfig(topic, 3, 1)]);
  const redis = createRedis({ url: testRedisUrl, keyPrefix: prefix, logger });

  const createIngestor = (settings: Record<string, string> = {}) =>
    createApp(
      loadConfig(priceIngestorConfigSchema, {
        PORT: '0',
        KAFKA_BROKERS: kafkaBrokers().join(','),
        PRICES_TOPIC: topic,
        CONSUMER_GROUP: group,
        PRICES_KEY_PREFIX: prefix,
        ...settings,
      }),
      logger,
    );

  return {
    topic,
    group,
    prefix,
    kafka,
    redis,
    createIngestor,
    async startIngestor(settings) {
      const app = createIngestor(settings);
      await app.start();
      return app;
    },
    async readSeries(key) {
      return JSON.parse((await redis.get(key)) ?? 'null') as unknown;
    },
    async close() {
      await deletePrefixedKeys(redis, prefix);
      redis.disconnect();
      await deleteTopics(kafka, [topic]);
    },
  };
}
