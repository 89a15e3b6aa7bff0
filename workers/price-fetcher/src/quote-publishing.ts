import {
  createIdempotentProducer,
  ensureTopics,
  ownedTopicConfig,
  type KafkaTopicCreationConfig,
} from '@brokerage/kafka';
import type { Kafka, Producer } from 'kafkajs';

export interface QuotePublishingConfig extends KafkaTopicCreationConfig {
  PRICES_TOPIC: string;
}

/**
 * Publishing to the prices topic, which the fetcher owns: it creates the topic at start, then
 * connects its producer. The producer is idempotent with one request in flight, retrying for as
 * long as the broker is away: a retry never duplicates or reorders, and nothing is checkpointed
 * until the broker has acknowledged.
 */
export class QuotePublishing {
  readonly producer: Producer;

  constructor(
    private readonly kafka: Kafka,
    private readonly config: QuotePublishingConfig,
  ) {
    this.producer = createIdempotentProducer(kafka, {
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 10_000 },
    });
  }

  async start(): Promise<void> {
    await ensureTopics(this.kafka, [ownedTopicConfig(this.config.PRICES_TOPIC, this.config)]);
    // The listings topic is the stocks service's: it creates it (compacted) at its start, which
    // the listings follower's snapshot waits for.
    await this.producer.connect();
  }

  stop(): Promise<void> {
    return this.producer.disconnect();
  }
}
