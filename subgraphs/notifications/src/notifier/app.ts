import { consumerGaveUp, createInstrumentedConsumer, kafkaReadiness, waitForTopics } from '@brokerage/kafka';
import { createDataSource, openDatabase, postgresReadiness } from '@brokerage/postgres';
import { type Logger, type ServicePart } from '@brokerage/service';
import { createWorkerApp, type WorkerApp, type WorkerKit } from '@brokerage/worker';
import { notificationsDatabase } from '../db';
import { DeliveriesRepository } from '../db/deliveries-repository';
import { AddressGuard } from '../webhooks/address-guard';
import type { NotifierConfig } from './config';
import { DeliveryLoop } from './delivery-loop';
import { runStatusChangesConsumer } from './status-changes-consumer';
import { WebhookSender } from './webhook-sender';

export type NotifierApp = WorkerApp;

/**
 * The notifier: turns the orders service's status changes into webhook deliveries (its own
 * consumer group, the deliveries written before the offset is committed) and makes them, signed,
 * retried with backoff for up to a day, in order per order, without one endpoint slowing another.
 */
export function createApp(config: NotifierConfig, logger: Logger): NotifierApp {
  return createWorkerApp({ name: 'notifier', config, logger, parts: (kit) => notifierParts(config, kit) });
}

function notifierParts(
  config: NotifierConfig,
  { kafka, metrics, registry, logger, kafkaConnections }: WorkerKit,
): ServicePart[] {
  const topic = config.STATUS_CHANGES_TOPIC;
  const admin = kafka.admin();
  const consumer = createInstrumentedConsumer(kafka, {
    groupId: config.CONSUMER_GROUP,
    sessionTimeout: config.KAFKA_SESSION_TIMEOUT_MS,
    admin,
    topics: [topic],
    registry,
  });
  const database = createDataSource({
    url: config.DATABASE_URL,
    ...notificationsDatabase,
    logger,
    metrics,
    poolSize: config.DB_POOL_SIZE,
  });
  const deliveries = new DeliveriesRepository(database);
  const sender = new WebhookSender(
    new AddressGuard({
      allowList: config.WEBHOOK_ALLOWED_HOSTS,
      allowHttp: config.NODE_ENV === 'development',
    }),
    config.WEBHOOK_TIMEOUT_MS,
  );
  const deliveryLoop = new DeliveryLoop({
    deliveries,
    sender,
    retry: {
      baseMs: config.WEBHOOK_RETRY_BASE_MS,
      maxDelayMs: config.WEBHOOK_RETRY_MAX_DELAY_MS,
      retryForMs: config.WEBHOOK_RETRY_FOR_MS,
    },
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    maxInFlight: config.WEBHOOK_MAX_IN_FLIGHT,
    maxInFlightPerEndpoint: config.WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT,
    pollMs: config.DELIVERY_POLL_MS,
    logger: logger.child({ component: 'deliveries' }),
    registry,
  });

  // Stopped in reverse: reading events first, then the attempts under way finish before their
  // connections close, then the database.
  return [
    {
      name: 'postgres',
      start: () => openDatabase(database, config.DATABASE_URL),
      stop: () => database.destroy(),
      ready: { postgres: postgresReadiness(database) },
    },
    { name: 'webhook connections', stop: () => sender.close() },
    { name: 'deliveries', start: async () => deliveryLoop.start(), stop: () => deliveryLoop.stop() },
    // The orders service owns the topic and creates it.
    { name: 'kafka topics', start: () => waitForTopics(kafka, [topic], { logger }) },
    { ...kafkaConnections({ consumer, admin }), ready: { kafka: kafkaReadiness(admin) } },
    {
      name: 'status changes',
      failed: consumerGaveUp(consumer),
      start: async () => {
        await runStatusChangesConsumer(
          consumer,
          topic,
          deliveries,
          () => deliveryLoop.notify(),
          logger.child({ component: 'status-changes' }),
          registry,
        );
        logger.info({ topic, group: config.CONSUMER_GROUP }, 'delivering order events to webhooks');
      },
      stop: () => consumer.stop(),
    },
  ];
}
