import {
  consumerGaveUp,
  createDataSource,
  createInstrumentedConsumer,
  createKafka,
  createMetrics,
  kafkaReadiness,
  openDatabase,
  postgresReadiness,
  startOpsServer,
  stopInOrder,
  waitForTopics,
  type Logger,
} from '@brokerage/common';
import { notificationsDatabase } from '../db';
import { DeliveriesRepository } from '../db/deliveries-repository';
import { AddressGuard } from '../webhooks/address-guard';
import type { NotifierConfig } from './config';
import { DeliveryLoop } from './delivery-loop';
import { runStatusChangesConsumer } from './status-changes-consumer';
import { WebhookSender } from './webhook-sender';

export interface NotifierApp {
  start(): Promise<{ url: string }>;
  stop(): Promise<void>;
  /** Settles if the Kafka consumer gives up for good: the process should then exit. */
  failed: Promise<Error>;
}

/**
 * The notifier: turns the orders service's status changes into webhook deliveries (its own
 * consumer group, the deliveries written before the offset is committed) and makes them, signed,
 * retried with backoff for up to a day, in order per order, without one endpoint slowing another.
 */
export function createApp(config: NotifierConfig, logger: Logger): NotifierApp {
  const metrics = createMetrics('notifier');
  const kafka = createKafka({
    clientId: 'notifier',
    brokers: config.KAFKA_BROKERS,
    security: config,
    logger,
  });
  const admin = kafka.admin();
  const topic = config.STATUS_CHANGES_TOPIC;
  const consumer = createInstrumentedConsumer(kafka, {
    groupId: config.CONSUMER_GROUP,
    sessionTimeout: config.KAFKA_SESSION_TIMEOUT_MS,
    admin,
    topics: [topic],
    registry: metrics.registry,
  });
  const guard = new AddressGuard({
    allowList: config.WEBHOOK_ALLOWED_HOSTS,
    allowHttp: config.NODE_ENV === 'development',
  });
  const sender = new WebhookSender(guard, config.WEBHOOK_TIMEOUT_MS);
  let ops: Awaited<ReturnType<typeof startOpsServer>> | undefined;
  const started: Array<[string, () => Promise<unknown>]> = [];

  async function startParts(): Promise<{ url: string }> {
    const database = await openDatabase(
      createDataSource({
        url: config.DATABASE_URL,
        ...notificationsDatabase,
        logger,
        metrics,
        poolSize: config.DB_POOL_SIZE,
      }),
      config.DATABASE_URL,
    );
    started.push(['postgres', () => database.destroy()]);
    const deliveries = new DeliveriesRepository(database);
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
      registry: metrics.registry,
    });
    deliveryLoop.start();
    // Stopped in reverse: the attempts under way finish before their connections close.
    started.push(['webhook connections', () => sender.close()], ['deliveries', () => deliveryLoop.stop()]);

    // The orders service owns the topic and creates it.
    await waitForTopics(kafka, [topic], { logger });
    await Promise.all([consumer.connect(), admin.connect()]);
    started.push(['kafka admin', () => admin.disconnect()], ['kafka consumer', () => consumer.disconnect()]);
    await runStatusChangesConsumer(
      consumer,
      topic,
      deliveries,
      () => deliveryLoop.notify(),
      logger.child({ component: 'status-changes' }),
      metrics.registry,
    );
    ops = await startOpsServer({
      port: config.PORT,
      host: config.HOST,
      logger,
      registry: metrics.registry,
      checks: { postgres: postgresReadiness(database), kafka: kafkaReadiness(admin) },
    });
    logger.info({ topic, group: config.CONSUMER_GROUP }, 'delivering order events to webhooks');
    return { url: ops.url };
  }

  return {
    failed: consumerGaveUp(consumer),
    async start() {
      try {
        return await startParts();
      } catch (error) {
        await stopInOrder([...started].reverse(), logger).catch(() => undefined);
        throw error;
      }
    },

    async stop() {
      ops?.markDraining();
      // Stop reading events first, then let the attempts under way finish, then close.
      await stopInOrder(
        [
          ['kafka consumer', () => consumer.stop()],
          ...[...started].reverse(),
          ['ops server', async () => ops?.stop()],
        ],
        logger,
      );
    },
  };
}
