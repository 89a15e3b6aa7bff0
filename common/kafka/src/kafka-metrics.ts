import type { Admin, Consumer, ConsumerConfig, Kafka } from 'kafkajs';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface ConsumerMetricsOptions {
  consumer: Consumer;
  /** Reads the group's committed offsets and the topics' ends when Prometheus scrapes. */
  admin: Admin;
  groupId: string;
  topics: string[];
  registry: Registry;
}

/**
 * What every consumer of the platform runs with. Reading a topic never creates it. An idle fetch
 * waits at most half a second (kafkajs' default is 5 s; Kafka's own clients' fetch.max.wait.ms
 * is 500 ms): a fetch returns as soon as there is a message, so this costs no latency, while a
 * consumer's stop (which waits for the fetch in flight) takes at most that long, and so does every
 * graceful stop and rolling restart of a service. The price is two empty fetches a second per
 * idle consumer.
 */
export const PLATFORM_CONSUMER_DEFAULTS = { allowAutoTopicCreation: false, maxWaitTimeInMs: 500 } as const;

/**
 * A consumer of the platform (PLATFORM_CONSUMER_DEFAULTS), with its group's metrics (below)
 * registered from the same settings it runs with.
 */
export function createInstrumentedConsumer(
  kafka: Kafka,
  options: ConsumerConfig & Omit<ConsumerMetricsOptions, 'consumer' | 'groupId'>,
): Consumer {
  const { admin, topics, registry, ...config } = options;
  const consumer = kafka.consumer({ ...PLATFORM_CONSUMER_DEFAULTS, ...config });
  instrumentConsumer({ consumer, admin, groupId: config.groupId, topics, registry });
  return consumer;
}

/**
 * Prometheus metrics of one consumer group: messages and batch processing time per topic (from
 * kafkajs' batch events), and the lag per partition: the topic's end less the group's committed
 * offset, read from the broker at scrape time, so a stuck consumer shows its lag growing.
 */
export function instrumentConsumer(options: ConsumerMetricsOptions): void {
  const { consumer, admin, groupId, topics, registry } = options;
  const messages = new Counter({
    name: 'kafka_consumer_messages_total',
    help: 'Messages handed to this consumer, by topic',
    labelNames: ['topic'],
    registers: [registry],
  });
  const batchSeconds = new Histogram({
    name: 'kafka_consumer_batch_seconds',
    help: 'Time to process one fetched batch, by topic',
    labelNames: ['topic'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [registry],
  });
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    messages.inc({ topic: payload.topic }, payload.batchSize);
    batchSeconds.observe({ topic: payload.topic }, payload.duration / 1000);
  });

  new Gauge({
    name: 'kafka_consumer_lag',
    help: "Messages not yet committed by this consumer's group, by topic and partition",
    labelNames: ['group', 'topic', 'partition'],
    registers: [registry],
    async collect(this: Gauge<'group' | 'topic' | 'partition'>) {
      this.reset();
      try {
        const committed = await admin.fetchOffsets({ groupId, topics });
        for (const { topic, partitions } of committed) {
          const ends = new Map(
            (await admin.fetchTopicOffsets(topic)).map((offsets) => [offsets.partition, offsets]),
          );
          for (const { partition, offset } of partitions) {
            const end = ends.get(partition);
            if (!end) continue;
            // -1 means nothing committed yet: all that the topic still holds is to do.
            const done = offset === '-1' ? BigInt(end.low) : BigInt(offset);
            this.set(
              { group: groupId, topic, partition: String(partition) },
              Number(BigInt(end.high) - done),
            );
          }
        }
      } catch {
        // No figure rather than a wrong one: the scrape still succeeds, the lag series goes missing.
      }
    },
  });
}
