import { kafkaSecurityConfig, kafkaTopicCreationConfig } from '@brokerage/kafka';
import { env } from '@brokerage/service';
import { subgraphConfigSchema } from '@brokerage/subgraph';
import { StocksTopics } from '@brokerage/stocks-contract';
import { OrderTopics, DEFAULT_ORDER_STATUS_CHANNEL_PREFIX } from '@brokerage/orders-contract';
import { PriceFetcherTopics } from '@brokerage/price-fetcher-contract';
import { VerifierTopics } from '@brokerage/verifier-contract';
import { z } from 'zod';

export const ordersConfigSchema = subgraphConfigSchema.extend({
  PORT: env.port(4004),
  HOST: env.host(),
  DATABASE_URL: env.postgresUrl('orders'),
  DB_POOL_SIZE: env.positiveInt(20),
  KAFKA_BROKERS: env.kafkaBrokers(),
  ...kafkaTopicCreationConfig,
  ...kafkaSecurityConfig,
  VERIFICATION_REQUESTS_TOPIC: z.string().min(1).default(OrderTopics.verificationRequests),
  VERIFICATION_OUTCOMES_TOPIC: z.string().min(1).default(VerifierTopics.verificationOutcomes),
  STATUS_CHANGES_TOPIC: z.string().min(1).default(OrderTopics.statusChanges),
  /** The price fetcher's topic: the latest price of every stock is kept from it. */
  PRICES_TOPIC: z.string().min(1).default(PriceFetcherTopics.priceQuotes),
  CONSUMER_GROUP: z.string().min(1).default('orders'),
  /** The stocks service's topic: buys of a stock it delisted are refused. */
  STOCK_LISTINGS_TOPIC: z.string().min(1).default(StocksTopics.stockListings),
  /** The group the listings are read in, from the topic's start at every start (it commits nothing). */
  LISTINGS_CONSUMER_GROUP: z.string().min(1).default('orders-listings'),
  /** How long the group waits for a silent consumer (a crashed one) before giving its partitions to others. */
  KAFKA_SESSION_TIMEOUT_MS: env.positiveInt(30_000),
  REDIS_URL: env.redisUrl(),
  /** Each order's status changes are published on `<prefix><order id>`. */
  STATUS_CHANNEL_PREFIX: z.string().default(DEFAULT_ORDER_STATUS_CHANNEL_PREFIX),
  /** Asked only to tell an unknown stock from one with no price yet. */
  STOCKS_SUBGRAPH_URL: env.url('http://127.0.0.1:4003/graphql'),
  SERVICE_TIMEOUT_MS: env.milliseconds(5_000),
  /** "Today" in the order history rule is the calendar day in this zone. */
  BUSINESS_TIME_ZONE: z.string().default('Asia/Tehran'),
  /** Larger orders are refused as input errors. */
  MAX_ORDER_QUANTITY: env.positiveInt(1_000_000),
  /** The outbox relay also polls this often, for rows other replicas (or a crash) left behind. */
  OUTBOX_POLL_MS: env.positiveInt(500),
  /**
   * An IN_PROGRESS order with no verification outcome after this long is asked for again (the
   * verifier decides within its stall limit, 60 s by default, of reading a request).
   */
  VERIFICATION_DEADLINE_MS: env.positiveInt(90_000),
  /** How often an overdue order is asked for again before it is FAILED with its cash released. */
  VERIFICATION_RETRIES: env.nonNegativeInt(1),
  /** How often overdue orders are looked for. */
  OVERDUE_SWEEP_MS: env.positiveInt(5_000),
});
export type OrdersConfig = z.infer<typeof ordersConfigSchema>;
