import { env, subgraphConfigSchema, OrderTopics } from '@brokerage/common';
import { z } from 'zod';

export const ordersConfigSchema = subgraphConfigSchema.extend({
  PORT: env.port(4004),
  HOST: env.host(),
  DATABASE_URL: env.postgresUrl('orders'),
  DB_POOL_SIZE: env.positiveInt(20),
  KAFKA_BROKERS: env.kafkaBrokers(),
  KAFKA_REPLICATION_FACTOR: env.positiveInt(1),
  VERIFICATION_REQUESTS_TOPIC: z.string().min(1).default(OrderTopics.verificationRequests),
  VERIFICATION_OUTCOMES_TOPIC: z.string().min(1).default(OrderTopics.verificationOutcomes),
  STATUS_CHANGES_TOPIC: z.string().min(1).default(OrderTopics.statusChanges),
  CONSUMER_GROUP: z.string().min(1).default('orders'),
  /** How long the group waits for a silent consumer (a crashed one) before giving its partitions to others. */
  KAFKA_SESSION_TIMEOUT_MS: env.positiveInt(30_000),
  REDIS_URL: env.redisUrl(),
  /** Each order's status changes are published on `<prefix><order id>`. */
  STATUS_CHANNEL_PREFIX: z.string().default('orders:status:'),
  USERS_SUBGRAPH_URL: env.url('http://127.0.0.1:4001/graphql'),
  STOCKS_SUBGRAPH_URL: env.url('http://127.0.0.1:4003/graphql'),
  SERVICE_TIMEOUT_MS: env.milliseconds(5_000),
  /** "Today" in the order history rule is the calendar day in this zone. */
  BUSINESS_TIME_ZONE: z.string().default('Asia/Tehran'),
  /** Larger orders are refused as input errors. */
  MAX_ORDER_QUANTITY: env.positiveInt(1_000_000),
  /** The outbox relay also polls this often, for rows other replicas (or a crash) left behind. */
  OUTBOX_POLL_MS: env.positiveInt(500),
  /** An order still unanswered after this long (its process died mid-request) is finished by recovery. */
  RECOVERY_AFTER_MS: env.positiveInt(30_000),
});
export type OrdersConfig = z.infer<typeof ordersConfigSchema>;
