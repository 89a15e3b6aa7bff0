import { z } from 'zod';
import { env } from '@brokerage/service';

/**
 * How a Kafka client authenticates and encrypts: SASL (SCRAM-SHA-256/512 or PLAIN) with a user of
 * the service's own, and TLS (with the cluster's CA, and a client certificate for mTLS). Every
 * process that talks to Kafka spreads this into its schema; all unset is plaintext without
 * authentication, as the development broker listens.
 */
export const kafkaSecurityConfig = {
  /** Set together with KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD. */
  KAFKA_SASL_MECHANISM: env.optional(z.enum(['scram-sha-256', 'scram-sha-512', 'plain']).optional()),
  KAFKA_SASL_USERNAME: env.optional(z.string().optional()),
  KAFKA_SASL_PASSWORD: env.optional(z.string().optional()),
  /** TLS to the brokers; on by itself when any KAFKA_SSL_*_PATH is set. */
  KAFKA_SSL: env.boolean(false),
  /** PEM files: the CA that signed the brokers' certificates, and the client's own for mTLS. */
  KAFKA_SSL_CA_PATH: env.optional(z.string().optional()),
  KAFKA_SSL_CERT_PATH: env.optional(z.string().optional()),
  KAFKA_SSL_KEY_PATH: env.optional(z.string().optional()),
  /** Only for a test cluster with a self-signed certificate. */
  KAFKA_SSL_REJECT_UNAUTHORIZED: env.boolean(true),
};
export type KafkaSecurityConfig = z.infer<z.ZodObject<typeof kafkaSecurityConfig>>;
