import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  createDataSource,
  createKafka,
  createLogger,
  createMetrics,
  createRedis,
  ensureTopics,
  InternalTokens,
  kafkaReadiness,
  openDatabase,
  postgresReadiness,
  redisReadiness,
  startSubgraphServer,
  stopInOrder,
  ownedTopicConfig,
  type Logger,
  type RunningSubgraph,
} from '@brokerage/common';
import { STOCK_LISTINGS_TOPIC_SETTINGS } from '@brokerage/stocks-contract';
import { Partitioners } from 'kafkajs';
import type { StocksConfig } from './config';
import { createStocksContext, type StocksContext } from './context';
import { stocksDatabase } from './db';
import { StocksRepository } from './db/stocks-repository';
import { OutboxRelay } from './outbox/outbox-relay';
import { PriceReader } from './prices/price-reader';
import { resolvers } from './resolvers';

export const typeDefs = readFileSync(path.join(__dirname, '../schema.graphql'), 'utf8');

type StopStep = [name: string, stop: () => Promise<unknown>];

/**
 * Opens (and migrates) the stocks database, connects to the price series, starts the relay that
 * announces listings and delistings, and serves the stocks subgraph. Stops in the order that
 * loses nothing: drain HTTP, then deliver what the outbox holds, then close.
 */
export async function start(
  config: StocksConfig,
  logger: Logger = createLogger({ service: 'stocks' }),
): Promise<RunningSubgraph> {
  const started: StopStep[] = [];
  const cleanUp = () => stopInOrder([...started].reverse(), logger);
  try {
    const metrics = createMetrics('stocks');
    const dataSource = await openDatabase(
      createDataSource({
        url: config.DATABASE_URL,
        ...stocksDatabase,
        logger,
        metrics,
        poolSize: config.DB_POOL_SIZE,
      }),
      config.DATABASE_URL,
    );
    started.push(['postgres', () => dataSource.destroy()]);
    // Prices are read on the request path: with Redis away the answer is DEPENDENCY_UNAVAILABLE at once.
    const redis = createRedis({
      url: config.REDIS_URL,
      keyPrefix: config.PRICES_KEY_PREFIX,
      logger,
      failFast: true,
    });
    started.push(['redis', () => redis.quit()]);

    const kafka = createKafka({
      clientId: 'stocks',
      brokers: config.KAFKA_BROKERS,
      security: config,
      logger,
    });
    const listingsTopic = ownedTopicConfig(config.STOCK_LISTINGS_TOPIC, config);
    await ensureTopics(kafka, [
      {
        ...listingsTopic,
        configEntries: [...(listingsTopic.configEntries ?? []), ...STOCK_LISTINGS_TOPIC_SETTINGS],
      },
    ]);
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

    const relay = new OutboxRelay({
      dataSource,
      producer,
      topic: config.STOCK_LISTINGS_TOPIC,
      pollMs: config.OUTBOX_POLL_MS,
      logger: logger.child({ component: 'outbox' }),
      registry: metrics.registry,
    });
    relay.start();
    started.push(['outbox relay', () => relay.stop()]);

    const stocks = new StocksRepository(dataSource);
    const prices = new PriceReader(redis, config.EXCHANGE_TIME_ZONE);
    const server = await startSubgraphServer<StocksContext>({
      service: 'stocks',
      internalTokens: new InternalTokens(config.INTERNAL_AUTH_SECRET, 'stocks'),
      typeDefs,
      resolvers,
      context: async (base) => createStocksContext(base, stocks, prices, () => relay.notify()),
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
    return { url: server.url, stop: cleanUp };
  } catch (error) {
    await cleanUp().catch(() => undefined);
    throw error;
  }
}
