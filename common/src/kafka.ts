import { Kafka, logLevel, type Admin, type Consumer, type ITopicConfig, type LogEntry } from 'kafkajs';
import './kafka-request-queue';
import type { Logger } from './logger';

export interface KafkaOptions {
  clientId: string;
  brokers: string[];
  logger: Logger;
}

const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** A kafkajs client whose own logs go to the service's pino logger. */
export function createKafka({ clientId, brokers, logger }: KafkaOptions): Kafka {
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId,
    brokers,
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
