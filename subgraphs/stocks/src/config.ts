import { kafkaSecurityConfig, kafkaTopicCreationConfig } from '@brokerage/kafka';
import { env } from '@brokerage/service';
import { subgraphConfigSchema } from '@brokerage/subgraph';
import { DEFAULT_PRICES_KEY_PREFIX } from '@brokerage/price-ingestor-contract';
import { StocksTopics } from '@brokerage/stocks-contract';
import { z } from 'zod';

export const stocksConfigSchema = subgraphConfigSchema.extend({
  PORT: env.port(4003),
  HOST: env.host(),
  DATABASE_URL: env.postgresUrl('stocks'),
  DB_POOL_SIZE: env.positiveInt(10),
  REDIS_URL: env.redisUrl(),
  /** Prefix of the price series keys, as the price ingestor writes them (none by default). */
  PRICES_KEY_PREFIX: z.string().default(DEFAULT_PRICES_KEY_PREFIX),
  EXCHANGE_TIME_ZONE: z.string().default('Asia/Tehran'),
  KAFKA_BROKERS: env.kafkaBrokers(),
  ...kafkaTopicCreationConfig,
  ...kafkaSecurityConfig,
  /** Where stocks listed and delisted are announced (the price fetcher follows it). */
  STOCK_LISTINGS_TOPIC: z.string().min(1).default(StocksTopics.stockListings),
  /** The outbox relay also polls this often, for rows other replicas (or a crash) left behind. */
  OUTBOX_POLL_MS: env.positiveInt(1_000),
});
export type StocksConfig = z.infer<typeof stocksConfigSchema>;
