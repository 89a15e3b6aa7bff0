import { randomBytes } from 'node:crypto';
import { createKafka, ensureTopics, topicConfig } from '@brokerage/kafka';
import { dropDatabase } from '@brokerage/postgres';
import { type Redis } from '@brokerage/redis';
import { createLogger, type Logger } from '@brokerage/service';
import type { Kafka } from 'kafkajs';
import { provisionPostgres } from '../../scripts/provision-stores';

/** A short random suffix that keeps one suite's databases, topics and keys apart from any other's. */
export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

export const testPostgresBaseUrl =
  process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const testRedisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function kafkaBrokers(): string[] {
  return (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
}

/** A database URL of the suite's own; the service under test creates the database on start. */
export function testDatabaseUrl(owner: string): string {
  const url = new URL(testPostgresBaseUrl);
  url.pathname = `/test_${owner}_${uniqueSuffix()}`;
  return url.toString();
}

/**
 * A database of the suite's own, owned by the service's own least-privileged role (`users`,
 * `orders`...), made as `npm run provision` makes it; the URL connects as that role.
 */
export async function provisionedDatabaseUrl(
  owner: 'users' | 'listings' | 'stocks' | 'orders' | 'notifications',
): Promise<string> {
  const url = new URL(testDatabaseUrl(owner));
  url.username = owner;
  url.password = '';
  await provisionPostgres(testPostgresBaseUrl, url.toString());
  return url.toString();
}

/** Deletes every key under a client's own key prefix (a test's Redis namespace). */
export async function deletePrefixedKeys(redis: Redis, prefix: string): Promise<void> {
  // KEYS answers full names, and DEL through a prefixed client would prefix them again.
  const keys = (await redis.keys(`${prefix}*`)).map((key) => key.slice(prefix.length));
  if (keys.length > 0) await redis.del(...keys);
}

/**
 * Creates a suite's topics as an administrator does before the services start: a service creates
 * only the topics it owns and waits for the others', so a suite that runs a consumer without the
 * topic's owner (or owners that wait on each other's topics) makes them first.
 */
export async function createTestTopics(topics: string[], brokers = kafkaBrokers()): Promise<void> {
  const kafka = createKafka({ clientId: 'test-admin', brokers, logger: testLogger('kafka') });
  await ensureTopics(
    kafka,
    topics.map((topic) => topicConfig(topic)),
  );
}

/** Deletes a suite's topics; run in afterAll. */
export async function deleteTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}

/** Drops the databases a suite made; run in afterAll. */
export async function dropDatabases(...urls: string[]): Promise<void> {
  await Promise.all(urls.map((url) => dropDatabase(url)));
}

export function testLogger(service: string): Logger {
  return createLogger({ service, level: (process.env.TEST_LOG_LEVEL as 'silent' | undefined) ?? 'silent' });
}
