import type { ITopicConfig } from 'kafkajs';

/**
 * The platform's Kafka topics and how they are created. Replication is 1 for the one-node
 * development broker; production sets KAFKA_REPLICATION_FACTOR=3 with min.insync.replicas=2.
 */
export const TopicNames = {
  priceQuotes: 'prices.quotes',
  /** The stocks subgraph's announcements of stocks listed and delisted (compacted, keyed by stock id). */
  stockListings: 'stocks.listings',
} as const;

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
