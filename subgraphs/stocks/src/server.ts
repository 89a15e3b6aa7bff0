import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  ensureTopics,
  kafkaReadiness,
  ownedTopicConfig,
  createIdempotentProducer,
  createKafka,
  kafkaConnectionsPart,
} from '@brokerage/kafka';
import { closeRedis, createRedis, redisReadiness } from '@brokerage/redis';
import { createLogger, type Logger } from '@brokerage/service';
import { startDatabaseSubgraph, type RunningSubgraph } from '@brokerage/subgraph';
import { STOCK_LISTINGS_TOPIC_SETTINGS } from '@brokerage/stocks-contract';
import type { StocksConfig } from './config';
import { createStocksContext, type StocksContext } from './context';
import { stocksDatabase } from './db';
import { StocksRepository } from './db/stocks-repository';
import { OutboxRelay } from './outbox/outbox-relay';
import { PriceReader } from './prices/price-reader';
import { resolvers } from './resolvers';

export const typeDefs = readFileSync(path.join(__dirname, '../schema.graphql'), 'utf8');

/**
 * Opens (and migrates) the stocks database, connects to the price series, starts the relay that
 * announces listings and delistings, and serves the stocks subgraph. Stops in the order that
 * loses nothing: drain HTTP, then deliver what the outbox holds, then close.
 */
export function start(
  config: StocksConfig,
  logger: Logger = createLogger({ service: 'stocks' }),
): Promise<RunningSubgraph> {
  return startDatabaseSubgraph<StocksContext>({
    service: 'stocks',
    config,
    logger,
    typeDefs,
    resolvers,
    ...stocksDatabase,
    context: (dataSource, kit) => {
      const kafka = createKafka({
        clientId: 'stocks',
        brokers: config.KAFKA_BROKERS,
        security: config,
        logger,
      });
      // Prices are read on the request path: with Redis away the answer is DEPENDENCY_UNAVAILABLE at once.
      const redis = createRedis({
        url: config.REDIS_URL,
        keyPrefix: config.PRICES_KEY_PREFIX,
        logger,
        failFast: true,
      });
      const producer = createIdempotentProducer(kafka);
      const admin = kafka.admin();
      const relay = new OutboxRelay({
        dataSource,
        producer,
        topic: config.STOCK_LISTINGS_TOPIC,
        pollMs: config.OUTBOX_POLL_MS,
        logger: logger.child({ component: 'outbox' }),
        registry: kit.registry,
      });
      const listingsTopic = ownedTopicConfig(config.STOCK_LISTINGS_TOPIC, config);
      kit.addPart({ name: 'redis', stop: () => closeRedis(redis), ready: { redis: redisReadiness(redis) } });
      kit.addPart({
        name: 'kafka topics',
        start: () =>
          ensureTopics(kafka, [
            {
              ...listingsTopic,
              configEntries: [...(listingsTopic.configEntries ?? []), ...STOCK_LISTINGS_TOPIC_SETTINGS],
            },
          ]),
      });
      kit.addPart({
        ...kafkaConnectionsPart({ admin, producer }, logger),
        ready: { kafka: kafkaReadiness(admin) },
      });
      kit.addPart({ name: 'outbox relay', start: async () => relay.start(), stop: () => relay.stop() });

      const stocks = new StocksRepository(dataSource);
      const prices = new PriceReader(redis, config.EXCHANGE_TIME_ZONE);
      return (base) => createStocksContext(base, stocks, prices, () => relay.notify());
    },
  });
}
