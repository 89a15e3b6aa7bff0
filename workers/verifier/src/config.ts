import { kafkaSecurityConfig, kafkaTopicCreationConfig } from '@brokerage/kafka';
import { baseConfigSchema, env } from '@brokerage/service';
import { OrderTopics } from '@brokerage/orders-contract';
import { VerifierTopics } from '@brokerage/verifier-contract';
import { z } from 'zod';

export const verifierConfigSchema = baseConfigSchema.extend({
  PORT: env.port(4103),
  HOST: env.host(),
  KAFKA_BROKERS: env.kafkaBrokers(),
  ...kafkaTopicCreationConfig,
  ...kafkaSecurityConfig,
  VERIFICATION_REQUESTS_TOPIC: z.string().min(1).default(OrderTopics.verificationRequests),
  VERIFICATION_OUTCOMES_TOPIC: z.string().min(1).default(VerifierTopics.verificationOutcomes),
  CONSUMER_GROUP: z.string().min(1).default('verifier'),
  /** How long the group waits for a silent consumer (a crashed one) before giving its partitions to others. */
  KAFKA_SESSION_TIMEOUT_MS: env.positiveInt(30_000),
  VERIFICATION_API_URL: env.url('http://127.0.0.1:4200'),
  /** A call not answered within this long has stalled: it is abandoned and the verification fails. */
  STALL_LIMIT_MS: env.positiveInt(60_000),
  /** Calls in flight at most; beyond it the consumer pauses until some finish. */
  MAX_IN_FLIGHT: env.positiveInt(20_000),
  /** How often finished work is committed to Kafka. */
  COMMIT_INTERVAL_MS: env.positiveInt(1_000),
});
export type VerifierConfig = z.infer<typeof verifierConfigSchema>;
