import { Partitioners, type Kafka, type Producer, type ProducerConfig } from 'kafkajs';
import { stopInOrder, type Logger, type ServicePart } from '@brokerage/service';

/** A Kafka client: connected at start, disconnected at stop. */
export interface KafkaConnection {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
}

/**
 * A part that connects Kafka clients side by side at start and disconnects them in the order
 * given at stop (list a consumer before the producer and admin it depends on).
 */
export function kafkaConnectionsPart(clients: Record<string, KafkaConnection>, logger: Logger): ServicePart {
  return {
    name: 'kafka connections',
    start: () => Promise.all(Object.values(clients).map((client) => client.connect())),
    stop: () =>
      stopInOrder(
        Object.entries(clients).map(([name, client]) => [`kafka ${name}`, () => client.disconnect()]),
        logger,
      ),
  };
}

/**
 * The platform's producer: idempotent with one request in flight, so that a retry never
 * duplicates or reorders; it never asks the broker to create a topic.
 */
export function createIdempotentProducer(kafka: Kafka, overrides: ProducerConfig = {}): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    ...overrides,
  });
}
