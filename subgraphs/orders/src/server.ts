import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  createDataSource,
  createKafka,
  createLogger,
  createMetrics,
  createRedis,
  ensureTopics,
  consumerGaveUp,
  createInstrumentedConsumer,
  InternalTokens,
  kafkaReadiness,
  openDatabase,
  postgresReadiness,
  redisReadiness,
  startSubgraphServer,
  stopInOrder,
  topicConfig,
  type Logger,
  type RunningSubgraph,
} from '@brokerage/common';
import { Partitioners } from 'kafkajs';
import { StockPrices } from './clients/stock-prices';
import { UsersCredit } from './clients/users-credit';
import type { OrdersConfig } from './config';
import { createOrdersContext, type OrdersContext } from './context';
import { ordersDatabase } from './db';
import { OrdersRepository } from './db/orders-repository';
import { OrderService } from './order-service';
import { OutboxRelay } from './outbox/outbox-relay';
import { resolvers } from './resolvers';
import { OrderStatusPublisher } from './status/order-status-publisher';
import { runOutcomeConsumer } from './verification/outcome-consumer';

export const typeDefs = readFileSync(path.join(__dirname, '../schema.graphql'), 'utf8');

type StopStep = [name: string, stop: () => Promise<unknown>];

/**
 * The orders subgraph and its background parts: the outbox relay, the consumer of verification
 * outcomes and the recovery of orders a crash left unanswered. Stops in the order that loses
 * nothing: no new outcomes, then drain HTTP, then deliver what the outbox holds, then close.
 */
export async function start(
  config: OrdersConfig,
  logger: Logger = createLogger({ service: 'orders' }),
): Promise<RunningSubgraph> {
  const started: StopStep[] = [];
  const cleanUp = () => stopInOrder([...started].reverse(), logger);
  try {
    const metrics = createMetrics('orders');
    const dataSource = await openDatabase(
      createDataSource({
        url: config.DATABASE_URL,
        ...ordersDatabase,
        logger,
        metrics,
        poolSize: config.DB_POOL_SIZE,
      }),
      config.DATABASE_URL,
    );
    started.push(['postgres', () => dataSource.destroy()]);

    const kafka = createKafka({ clientId: 'orders', brokers: config.KAFKA_BROKERS, logger });
    await ensureTopics(
      kafka,
      [
        config.VERIFICATION_REQUESTS_TOPIC,
        config.VERIFICATION_OUTCOMES_TOPIC,
        config.STATUS_CHANGES_TOPIC,
      ].map((topic) => topicConfig(topic, 3, config.KAFKA_REPLICATION_FACTOR)),
    );
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    started.push(['kafka producer', () => producer.disconnect()]);
    const admin = kafka.admin();
    await admin.connect();
    started.push(['kafka admin', () => admin.disconnect()]);
    const redis = createRedis({ url: config.REDIS_URL, keyPrefix: '', logger });
    started.push(['redis', () => redis.quit()]);

    // One credential for both directions: verifying the gateway's callers and calling other services.
    const internalTokens = new InternalTokens(config.INTERNAL_AUTH_SECRET, 'orders');
    const credit = new UsersCredit(config.USERS_SUBGRAPH_URL, config.SERVICE_TIMEOUT_MS, internalTokens);
    const orders = new OrdersRepository(dataSource, config.BUSINESS_TIME_ZONE);
    const statusPublisher = new OrderStatusPublisher(
      redis,
      config.STATUS_CHANNEL_PREFIX,
      logger.child({ component: 'status' }),
      metrics.registry,
    );
    const relay = new OutboxRelay({
      dataSource,
      producer,
      statusPublisher,
      credit,
      topics: {
        verificationRequests: config.VERIFICATION_REQUESTS_TOPIC,
        statusChanges: config.STATUS_CHANGES_TOPIC,
      },
      pollMs: config.OUTBOX_POLL_MS,
      logger: logger.child({ component: 'outbox' }),
      registry: metrics.registry,
    });
    relay.start();
    started.push(['outbox relay', () => relay.stop()]);

    const orderService = new OrderService(
      orders,
      credit,
      new StockPrices(config.STOCKS_SUBGRAPH_URL, config.SERVICE_TIMEOUT_MS, internalTokens),
      config.MAX_ORDER_QUANTITY,
      statusPublisher,
      () => relay.notify(),
      logger,
    );
    const recovery = setInterval(
      () =>
        void orderService.recoverUnanswered(config.RECOVERY_AFTER_MS).catch((error: unknown) => {
          logger.warn({ err: error }, 'order recovery failed');
        }),
      Math.min(config.RECOVERY_AFTER_MS / 2, 10_000),
    );
    started.push(['recovery', async () => clearInterval(recovery)]);

    const server = await startSubgraphServer<OrdersContext>({
      service: 'orders',
      internalTokens,
      typeDefs,
      resolvers,
      context: async (base) => createOrdersContext(base, orders, orderService),
      port: config.PORT,
      host: config.HOST,
      nodeEnv: config.NODE_ENV,
      logger,
      metrics,
      ops: {
        registry: metrics.registry,
        checks: {
          postgres: postgresReadiness(dataSource),
          redis: redisReadiness(redis),
          kafka: kafkaReadiness(admin),
        },
      },
    });
    started.push(['http', () => server.stop()]);

    const consumer = createInstrumentedConsumer(kafka, {
      groupId: config.CONSUMER_GROUP,
      sessionTimeout: config.KAFKA_SESSION_TIMEOUT_MS,
      admin,
      topics: [config.VERIFICATION_OUTCOMES_TOPIC],
      registry: metrics.registry,
    });
    const consumerFailed = consumerGaveUp(consumer);
    await consumer.connect();
    started.push(['outcome consumer', () => consumer.disconnect()]);
    await runOutcomeConsumer({
      consumer,
      topic: config.VERIFICATION_OUTCOMES_TOPIC,
      orders,
      statusPublisher,
      onOutboxWrite: () => relay.notify(),
      logger: logger.child({ component: 'outcomes' }),
      registry: metrics.registry,
    });

    return { url: server.url, stop: cleanUp, failed: consumerFailed };
  } catch (error) {
    await cleanUp().catch(() => undefined);
    throw error;
  }
}
