import { kafkaSecurityConfig } from '@brokerage/kafka';
import { baseConfigSchema, env } from '@brokerage/service';
import { PriceFetcherTopics } from '@brokerage/price-fetcher-contract';
import {
  DEFAULT_PRICE_POINTS_CHANNEL_PREFIX,
  DEFAULT_PRICES_KEY_PREFIX,
} from '@brokerage/price-ingestor-contract';
import { z } from 'zod';

export const priceIngestorConfigSchema = baseConfigSchema.extend({
  PORT: env.port(4102),
  HOST: env.host(),
  KAFKA_BROKERS: env.kafkaBrokers(),
  ...kafkaSecurityConfig,
  PRICES_TOPIC: z.string().min(1).default(PriceFetcherTopics.priceQuotes),
  CONSUMER_GROUP: z.string().min(1).default('price-ingestor'),
  /** How long the group waits for a silent consumer (a crashed one) before giving its partitions to others. */
  KAFKA_SESSION_TIMEOUT_MS: env.positiveInt(30_000),
  REDIS_URL: env.redisUrl(),
  /**
   * Prefix of the series keys. Empty by default: existing clients read the series at the bare
   * lower-case symbol (`stock1`), a contract this service keeps.
   */
  PRICES_KEY_PREFIX: z.string().default(DEFAULT_PRICES_KEY_PREFIX),
  /**
   * Each new minute point of a stock's latest day is announced on the Redis channel
   * `<prefix><symbol>` (gateways serve priceChanged from it); empty announces nothing.
   */
  PRICE_POINTS_CHANNEL_PREFIX: z.string().default(DEFAULT_PRICE_POINTS_CHANNEL_PREFIX),
  /** Partitions processed in parallel. */
  PARTITIONS_CONCURRENTLY: env.positiveInt(3),
  /**
   * Batches of one partition being written to Redis at once while the next are fetched. Two keep
   * Redis and the consumer busy side by side; more only hold more memory.
   */
  WRITES_IN_FLIGHT: env.positiveInt(2),
  /** After a failed Redis write, how long the partition waits before it is read again from that batch. */
  RETRY_DELAY_MS: env.milliseconds(1_000),
});
export type PriceIngestorConfig = z.infer<typeof priceIngestorConfigSchema>;
