import { kafkaSecurityConfig } from '@brokerage/kafka';
import { baseConfigSchema, env } from '@brokerage/service';
import { OrderTopics } from '@brokerage/orders-contract';
import { z } from 'zod';
import { webhookAllowListSetting } from '../webhooks/settings';

export const notifierConfigSchema = baseConfigSchema.extend({
  PORT: env.port(4104),
  HOST: env.host(),
  /** The notifications database: the endpoints the subgraph registered, and the deliveries. */
  DATABASE_URL: env.postgresUrl('notifications'),
  DB_POOL_SIZE: env.positiveInt(10),
  KAFKA_BROKERS: env.kafkaBrokers(),
  ...kafkaSecurityConfig,
  /** The orders service's announcements of every status change (its contract: @brokerage/orders-contract). */
  STATUS_CHANGES_TOPIC: z.string().min(1).default(OrderTopics.statusChanges),
  CONSUMER_GROUP: z.string().min(1).default('notifier'),
  /** How long the group waits for a silent consumer (a crashed one) before giving its partitions to others. */
  KAFKA_SESSION_TIMEOUT_MS: env.positiveInt(30_000),
  WEBHOOK_ALLOWED_HOSTS: webhookAllowListSetting,
  /** One attempt's limit, connecting included: an endpoint slower than this has failed the attempt. */
  WEBHOOK_TIMEOUT_MS: env.positiveInt(10_000),
  /** Retries wait a random time up to RETRY_BASE x 2^(attempt-1), at most RETRY_MAX_DELAY (full jitter). */
  WEBHOOK_RETRY_BASE_MS: env.positiveInt(5_000),
  WEBHOOK_RETRY_MAX_DELAY_MS: env.positiveInt(3_600_000),
  /** A delivery not made within this long of its event is given up (FAILED). */
  WEBHOOK_RETRY_FOR_MS: env.positiveInt(86_400_000),
  /** Attempts under way at once in this process, and to one endpoint across every replica. */
  WEBHOOK_MAX_IN_FLIGHT: env.positiveInt(200),
  WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT: env.positiveInt(4),
  /** Due deliveries are also looked for this often (retries, and what other replicas left behind). */
  DELIVERY_POLL_MS: env.positiveInt(1_000),
});
export type NotifierConfig = z.infer<typeof notifierConfigSchema>;
