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
  ownedTopicConfig,
  waitForTopics,
  type Logger,
  type RunningSubgraph,
} from '@brokerage/common';
import { Partitioners } from 'kafkajs';
import { StockCatalogue } from './clients/stock-catalogue';
import type { OrdersConfig } from './config';
import { createOrdersContext, type OrdersContext } from './context';
import { ordersDatabase } from './db';
import { AccountsRepository } from './db/accounts-repository';
import { OrderTransitions } from './db/order-transitions';
import { OrdersRepository } from './db/orders-repository';
import { StockListingsRepository } from './db/stock-listings-repository';
import { StockPricesRepository } from './db/stock-prices-repository';
import { StockListingsFollower } from './listings/stock-listings-follower';
import { OrderService } from './order-service';
import { runOrdersConsumer, type TopicHandler } from './orders-consumer';
import { OutboxRelay } from './outbox/outbox-relay';
import { PriceFollower } from './prices/price-follower';
import { resolvers } from './resolvers';
import { OrderStatusPublisher } from './status/order-status-publisher';
import { OutcomeApplier } from './verification/outcome-applier';
import { OverdueSweep } from './verification/overdue-sweep';

export const typeDefs = readFileSync(path.join(__dirname, '../schema.graphql'), 'utf8');

type StopStep = [name: string, stop: () => Promise<unknown>];

/**
 * The orders subgraph and its background parts: the outbox relay, the consumer of verification
 * outcomes and prices, and the sweep of orders whose verification outcome is overdue. Stops in the order that loses
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

    const kafka = createKafka({
      clientId: 'orders',
      brokers: config.KAFKA_BROKERS,
      security: config,
      logger,
    });
    // Its own topics it creates; the verifier's outcomes and the price fetcher's quotes it waits for.
    await ensureTopics(
      kafka,
      [config.VERIFICATION_REQUESTS_TOPIC, config.STATUS_CHANGES_TOPIC].map((topic) =>
        ownedTopicConfig(topic, config),
      ),
    );
    await waitForTopics(kafka, [config.VERIFICATION_OUTCOMES_TOPIC, config.PRICES_TOPIC], { logger });
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
    const orders = new OrdersRepository(dataSource, config.BUSINESS_TIME_ZONE);
    const transitions = new OrderTransitions(
      dataSource,
      config.VERIFICATION_DEADLINE_MS,
      config.MAX_ORDER_QUANTITY,
    );
    const accounts = new AccountsRepository(dataSource);
    const relay = new OutboxRelay({
      dataSource,
      producer,
      statusPublisher: new OrderStatusPublisher(redis, config.STATUS_CHANNEL_PREFIX),
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
    const onOutboxWrite = () => relay.notify();

    const stockPrices = new StockPricesRepository(dataSource);
    const stockListings = new StockListingsRepository(dataSource);
    const orderService = new OrderService(
      orders,
      transitions,
      accounts,
      stockPrices,
      stockListings,
      new StockCatalogue(config.STOCKS_SUBGRAPH_URL, config.SERVICE_TIMEOUT_MS, internalTokens),
      config.MAX_ORDER_QUANTITY,
      onOutboxWrite,
    );
    const overdue = new OverdueSweep(
      transitions,
      config.VERIFICATION_RETRIES,
      config.OVERDUE_SWEEP_MS,
      onOutboxWrite,
      logger.child({ component: 'overdue' }),
      metrics.registry,
    );
    overdue.start();
    started.push(['overdue sweep', () => overdue.stop()]);

    const server = await startSubgraphServer<OrdersContext>({
      service: 'orders',
      internalTokens,
      typeDefs,
      resolvers,
      context: async (base) => createOrdersContext(base, orders, accounts, orderService),
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
      topics: [config.VERIFICATION_OUTCOMES_TOPIC, config.PRICES_TOPIC],
      registry: metrics.registry,
    });
    const consumerFailed = consumerGaveUp(consumer);
    await consumer.connect();
    started.push(['consumer', () => consumer.disconnect()]);
    await runOrdersConsumer(
      consumer,
      new Map<string, TopicHandler>([
        [
          config.VERIFICATION_OUTCOMES_TOPIC,
          new OutcomeApplier(
            transitions,
            onOutboxWrite,
            logger.child({ component: 'outcomes' }),
            metrics.registry,
          ),
        ],
        [
          config.PRICES_TOPIC,
          new PriceFollower(stockPrices, logger.child({ component: 'prices' }), metrics.registry),
        ],
      ]),
    );

    const listingsFollower = new StockListingsFollower({
      kafka,
      admin,
      topic: config.STOCK_LISTINGS_TOPIC,
      groupId: config.LISTINGS_CONSUMER_GROUP,
      listings: stockListings,
      logger: logger.child({ component: 'listings' }),
      registry: metrics.registry,
    });
    started.push(['listings follower', () => listingsFollower.stop()]);
    listingsFollower.start();

    return {
      url: server.url,
      stop: cleanUp,
      failed: Promise.race([consumerFailed, listingsFollower.failed]),
    };
  } catch (error) {
    await cleanUp().catch(() => undefined);
    throw error;
  }
}
