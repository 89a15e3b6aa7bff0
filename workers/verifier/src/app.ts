import {
  consumerGaveUp,
  createInstrumentedConsumer,
  ensureTopics,
  kafkaReadiness,
  ownedTopicConfig,
  waitForTopics,
  createIdempotentProducer,
} from '@brokerage/kafka';
import { type Logger } from '@brokerage/service';
import { createWorkerApp, type WorkerApp } from '@brokerage/worker';
import type { VerifierConfig } from './config';
import { VerificationClient } from './verification-client';
import { VerificationConsumer } from './verification-consumer';

export type VerifierApp = WorkerApp;

/** The verifier: verification requests from Kafka, through the verification API, outcomes to Kafka. */
export function createApp(config: VerifierConfig, logger: Logger): VerifierApp {
  return createWorkerApp({
    name: 'verifier',
    config,
    logger,
    parts: ({ kafka, registry, kafkaConnections }) => {
      const admin = kafka.admin();
      const consumer = createInstrumentedConsumer(kafka, {
        groupId: config.CONSUMER_GROUP,
        sessionTimeout: config.KAFKA_SESSION_TIMEOUT_MS,
        admin,
        topics: [config.VERIFICATION_REQUESTS_TOPIC],
        registry,
      });
      const producer = createIdempotentProducer(kafka);
      const client = new VerificationClient({
        baseUrl: config.VERIFICATION_API_URL,
        stallLimitMs: config.STALL_LIMIT_MS,
        maxConnections: config.MAX_IN_FLIGHT,
      });
      const verification = new VerificationConsumer({ consumer, producer, client, config, logger, registry });
      return [
        { name: 'verification API connections', stop: () => client.close() },
        {
          name: 'kafka topics',
          // It owns the outcomes topic; the requests topic is the orders service's, which creates it.
          start: async () => {
            await ensureTopics(kafka, [ownedTopicConfig(config.VERIFICATION_OUTCOMES_TOPIC, config)]);
            await waitForTopics(kafka, [config.VERIFICATION_REQUESTS_TOPIC], { logger });
          },
        },
        { ...kafkaConnections({ consumer, producer, admin }), ready: { kafka: kafkaReadiness(admin) } },
        {
          name: 'verification',
          failed: consumerGaveUp(consumer),
          start: () => verification.start(),
          stop: () => verification.stop(),
        },
      ];
    },
  });
}
