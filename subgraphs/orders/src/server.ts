import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  consumerGaveUp,
  createInstrumentedConsumer,
  ensureTopics,
  kafkaReadiness,
  ownedTopicConfig,
  waitForTopics,
  createIdempotentProducer,
  createKafka,
  kafkaConnectionsPart,
} from '@brokerage/kafka';
import { closeRedis, createRedis, redisReadiness } from '@brokerage/redis';
import { createLogger, type Logger } from '@brokerage/service';
import { startDatabaseSubgraph, type RunningSubgraph } from '@brokerage/subgraph';
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

/**
 * The orders subgraph and its background parts: the outbox relay, the consumer of verification
 * outcomes and prices, and the sweep of orders whose verification outcome is overdue. Stops in the
 * order that loses nothing: no new outcomes, then drain HTTP, then deliver what the outbox holds,
 * then close.
 */
export function start(
  config: OrdersConfig,
  logger: Logger = createLogger({ service: 'orders' }),
): Promise<RunningSubgraph> {
  return startDatabaseSubgraph<OrdersContext>({
    service: 'orders',
    config,
    logger,
    typeDefs,
    resolvers,
    ...ordersDatabase,
    context: (dataSource, kit) => {
      const { registry, internalTokens } = kit;
      const kafka = createKafka({
        clientId: 'orders',
        brokers: config.KAFKA_BROKERS,
        security: config,
        logger,
      });
      const producer = createIdempotentProducer(kafka);
      const admin = kafka.admin();
      const redis = createRedis({ url: config.REDIS_URL, keyPrefix: '', logger });
      const orders = new OrdersRepository(dataSource, config.BUSINESS_TIME_ZONE);
      const transitions = new OrderTransitions(
        dataSource,
        config.VERIFICATION_DEADLINE_MS,
        config.MAX_ORDER_QUANTITY,
      );
      const accounts = new AccountsRepository(dataSource);
      const stockPrices = new StockPricesRepository(dataSource);
      const stockListings = new StockListingsRepository(dataSource);
      const listingsFollower = new StockListingsFollower({
        kafka,
        admin,
        topic: config.STOCK_LISTINGS_TOPIC,
        groupId: config.LISTINGS_CONSUMER_GROUP,
        listings: stockListings,
        logger: logger.child({ component: 'listings' }),
        registry,
      });
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
        registry,
      });
      const onOutboxWrite = () => relay.notify();
      const overdue = new OverdueSweep(
        transitions,
        config.VERIFICATION_RETRIES,
        config.OVERDUE_SWEEP_MS,
        onOutboxWrite,
        logger.child({ component: 'overdue' }),
        registry,
      );
      const consumer = createInstrumentedConsumer(kafka, {
        groupId: config.CONSUMER_GROUP,
        sessionTimeout: config.KAFKA_SESSION_TIMEOUT_MS,
        admin,
        topics: [config.VERIFICATION_OUTCOMES_TOPIC, config.PRICES_TOPIC],
        registry,
      });

      kit.addPart({
        name: 'kafka topics',
        // Its own topics it creates; the verifier's outcomes and the price fetcher's quotes it waits for.
        start: async () => {
          await ensureTopics(
            kafka,
            [config.VERIFICATION_REQUESTS_TOPIC, config.STATUS_CHANGES_TOPIC].map((topic) =>
              ownedTopicConfig(topic, config),
            ),
          );
          await waitForTopics(kafka, [config.VERIFICATION_OUTCOMES_TOPIC, config.PRICES_TOPIC], { logger });
        },
      });
      kit.addPart({
        ...kafkaConnectionsPart({ admin, producer }, logger),
        ready: { kafka: kafkaReadiness(admin) },
      });
      kit.addPart({ name: 'redis', stop: () => closeRedis(redis), ready: { redis: redisReadiness(redis) } });
      kit.addPart({ name: 'outbox relay', start: async () => relay.start(), stop: () => relay.stop() });
      kit.addPart({ name: 'overdue sweep', start: async () => overdue.start(), stop: () => overdue.stop() });
      kit.addConsumer({
        name: 'consumer',
        failed: consumerGaveUp(consumer),
        start: async () => {
          await consumer.connect();
          await runOrdersConsumer(
            consumer,
            new Map<string, TopicHandler>([
              [
                config.VERIFICATION_OUTCOMES_TOPIC,
                new OutcomeApplier(
                  transitions,
                  onOutboxWrite,
                  logger.child({ component: 'outcomes' }),
                  registry,
                ),
              ],
              [
                config.PRICES_TOPIC,
                new PriceFollower(stockPrices, logger.child({ component: 'prices' }), registry),
              ],
            ]),
          );
        },
        stop: () => consumer.disconnect(),
      });
      kit.addConsumer({
        name: 'listings follower',
        failed: listingsFollower.failed,
        start: async () => listingsFollower.start(),
        stop: () => listingsFollower.stop(),
      });

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
      return (base) => createOrdersContext(base, orders, accounts, orderService);
    },
  });
}
