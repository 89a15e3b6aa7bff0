import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import {
  Kafka,
  logLevel,
  type Admin,
  type Consumer,
  type ITopicConfig,
  type KafkaConfig,
  type LogEntry,
  type SASLOptions,
} from 'kafkajs';
import type { z } from 'zod';
import { type KafkaSecurityConfig } from './kafka-config';
import { ConfigError, env, type Logger } from '@brokerage/service';

export interface KafkaOptions {
  clientId: string;
  brokers: string[];
  logger: Logger;
  /** The service's `KAFKA_SASL_*` and `KAFKA_SSL*` settings; none is plaintext without authentication. */
  security?: Partial<KafkaSecurityConfig>;
}

/**
 * The kafkajs `sasl` and `ssl` options from a service's settings. Throws a ConfigError (at start,
 * where clients are made) for a half-given SASL user or a certificate without its key.
 */
export function kafkaSecurityOptions(
  security: Partial<KafkaSecurityConfig> = {},
): Pick<KafkaConfig, 'sasl' | 'ssl'> {
  const problems: string[] = [];
  const {
    KAFKA_SASL_MECHANISM: mechanism,
    KAFKA_SASL_USERNAME: username,
    KAFKA_SASL_PASSWORD: password,
  } = security;
  let sasl: SASLOptions | undefined;
  if (mechanism) {
    if (!username) problems.push('KAFKA_SASL_USERNAME: must be set with KAFKA_SASL_MECHANISM');
    // eslint-disable-next-line security/detect-possible-timing-attacks -- a presence check, not a comparison of secrets
    if (password === undefined) problems.push('KAFKA_SASL_PASSWORD: must be set with KAFKA_SASL_MECHANISM');
    if (username && password !== undefined) sasl = { mechanism, username, password };
  } else if (username || password) {
    problems.push('KAFKA_SASL_MECHANISM: must be set with KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD');
  }
  const { KAFKA_SSL_CA_PATH: ca, KAFKA_SSL_CERT_PATH: cert, KAFKA_SSL_KEY_PATH: key } = security;
  if (Boolean(cert) !== Boolean(key))
    problems.push(
      'KAFKA_SSL_CERT_PATH, KAFKA_SSL_KEY_PATH: a client certificate needs its key, and the key its certificate',
    );
  if (problems.length > 0) throw new ConfigError(problems);
  const read = (file: string, variable: string) => {
    try {
      // eslint-disable-next-line security/detect-non-literal-fs-filename -- the operator's KAFKA_SSL_*_PATH setting, read at start
      return readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError([`${variable}: cannot read ${file} (${(error as Error).message})`]);
    }
  };
  let ssl: boolean | ConnectionOptions | undefined;
  if (security.KAFKA_SSL || ca || cert) {
    ssl = {
      rejectUnauthorized: security.KAFKA_SSL_REJECT_UNAUTHORIZED ?? true,
      ...(ca ? { ca: [read(ca, 'KAFKA_SSL_CA_PATH')] } : {}),
      ...(cert && key
        ? { cert: read(cert, 'KAFKA_SSL_CERT_PATH'), key: read(key, 'KAFKA_SSL_KEY_PATH') }
        : {}),
    };
  }
  return { ...(sasl ? { sasl } : {}), ...(ssl ? { ssl } : {}) };
}

const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** A kafkajs client whose own logs go to the service's pino logger. */
export function createKafka({ clientId, brokers, logger, security }: KafkaOptions): Kafka {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId,
    brokers,
    ...kafkaSecurityOptions(security),
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    // Keep retrying through a broker restart rather than giving up after kafkajs' default ~30 s.
    retry: { initialRetryTime: 300, maxRetryTime: 10_000, retries: 12 },
    logLevel: logLevel.INFO,
    logCreator:
      () =>
      ({ namespace, level, log }: LogEntry) => {
        const { message, timestamp: _timestamp, logger: _logger, ...extra } = log;
        kafkaLogger[levels[level] ?? 'info']({ namespace, ...extra }, message);
      },
  });
}

/**
 * Creates the topics that do not exist yet (never relying on auto-creation), then waits until
 * every partition has a leader, so the first produce does not race the new topic's metadata.
 */
export async function ensureTopics(kafka: Kafka, topics: ITopicConfig[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter(({ topic }) => !existing.has(topic));
    if (missing.length > 0) {
      // kafkajs' own wait gives up on the UNKNOWN_TOPIC_OR_PARTITION a KRaft broker answers while a
      // new topic's metadata propagates; the loop below waits through it instead.
      await admin.createTopics({ topics: missing, waitForLeaders: false });
    }
    await waitForLeaders(
      admin,
      topics.map(({ topic }) => topic),
    );
  } finally {
    await admin.disconnect();
  }
}

async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
      if (metadata.every(({ partitions }) => partitions.every(({ leader }) => leader >= 0))) return;
    } catch (error) {
      if (!isTopicNotYetKnown(error)) throw error;
    }
    if (Date.now() > deadline)
      throw new Error(`topics ${topics.join(', ')} have no leader after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A topic just created (here or by another process) that the broker's metadata does not show yet. */
function isTopicNotYetKnown(error: unknown): boolean {
  const type = (error as { type?: unknown } | null)?.type;
  return type === 'UNKNOWN_TOPIC_OR_PARTITION' || type === 'LEADER_NOT_AVAILABLE';
}

/**
 * The settings of a topic's owner for the topics it creates: partitions (which bound how many
 * consumers of a group share the work) and replication. Replication is 1 for the one-node
 * development broker; production sets KAFKA_REPLICATION_FACTOR=3 (min.insync.replicas=2).
 */
export const kafkaTopicCreationConfig = {
  KAFKA_TOPIC_PARTITIONS: env.positiveInt(3),
  KAFKA_REPLICATION_FACTOR: env.positiveInt(1),
};
export type KafkaTopicCreationConfig = z.infer<z.ZodObject<typeof kafkaTopicCreationConfig>>;

export function topicConfig(topic: string, partitions = 3, replicationFactor = 1): ITopicConfig {
  return {
    topic,
    numPartitions: partitions,
    replicationFactor,
    configEntries:
      replicationFactor > 1
        ? [{ name: 'min.insync.replicas', value: String(Math.min(2, replicationFactor)) }]
        : [],
  };
}

/**
 * How a service creates a topic it owns (one its `@brokerage/*-contract` defines), as its config
 * says: only the owner passes this to `ensureTopics`; a consumer of the topic calls `waitForTopics`.
 */
export function ownedTopicConfig(
  topic: string,
  { KAFKA_TOPIC_PARTITIONS, KAFKA_REPLICATION_FACTOR }: KafkaTopicCreationConfig,
): ITopicConfig {
  return topicConfig(topic, KAFKA_TOPIC_PARTITIONS, KAFKA_REPLICATION_FACTOR);
}

/**
 * Waits until other services' topics exist and have leaders: a consumer never creates a topic it
 * does not own (its owner sets partitions and replication), so it starts once the owner has.
 * Gives up after `timeoutMs`, naming the topics still missing.
 */
export async function waitForTopics(
  kafka: Kafka,
  topics: string[],
  { logger, timeoutMs = 120_000 }: { logger: Logger; timeoutMs?: number },
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    let nextLog = 0;
    for (;;) {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((topic) => !existing.has(topic));
      if (missing.length === 0) break;
      if (Date.now() > deadline) {
        throw new Error(
          `topics ${missing.join(', ')} do not exist after ${timeoutMs} ms: is their owner running?`,
        );
      }
      if (Date.now() >= nextLog) {
        logger.info({ topics: missing }, 'waiting for the owners of these topics to create them');
        nextLog = Date.now() + 10_000;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await waitForLeaders(admin, topics);
  } finally {
    await admin.disconnect();
  }
}

/** Readiness check: the cluster answers a metadata request. */
export function kafkaReadiness(admin: Admin) {
  return async () => {
    await admin.describeCluster();
  };
}

/**
 * Resolves with the error when kafkajs gives up on a consumer: after a crash it does not restart
 * from (a non-retriable error), the consumer reads nothing more while the process lives on. Pass it
 * as the service's `failed` (see `Stoppable`) so that the process exits and is started afresh.
 */
export function consumerGaveUp(consumer: Consumer): Promise<Error> {
  return new Promise((resolve) => {
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) resolve(payload.error);
    });
  });
}
