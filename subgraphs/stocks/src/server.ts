import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  createLogger,
  createRedis,
  redisReadiness,
  startDatabaseSubgraph,
  type Logger,
  type RunningSubgraph,
} from '@brokerage/common';
import type { StocksConfig } from './config';
import { createStocksContext } from './context';
import { stocksDatabase } from './db';
import { StocksRepository } from './db/stocks-repository';
import { PriceReader } from './prices/price-reader';
import { resolvers } from './resolvers';

export const typeDefs = readFileSync(path.join(__dirname, '../schema.graphql'), 'utf8');

/** Opens (and migrates) the stocks database, connects to the price series and serves the stocks subgraph. */
export async function start(
  config: StocksConfig,
  logger: Logger = createLogger({ service: 'stocks' }),
): Promise<RunningSubgraph> {
  const redis = createRedis({ url: config.REDIS_URL, keyPrefix: config.PRICES_KEY_PREFIX, logger });
  const prices = new PriceReader(redis, config.EXCHANGE_TIME_ZONE);
  try {
    return await startDatabaseSubgraph({
      service: 'stocks',
      config,
      logger,
      typeDefs,
      resolvers,
      ...stocksDatabase,
      context: (dataSource) => {
        const stocks = new StocksRepository(dataSource);
        return (base) => createStocksContext(base, stocks, prices);
      },
      dependencies: [{ name: 'redis', ready: redisReadiness(redis), close: () => redis.quit() }],
    });
  } catch (error) {
    redis.disconnect();
    throw error;
  }
}
