import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  createLogger,
  InternalTokens,
  startDatabaseSubgraph,
  type Logger,
  type RunningSubgraph,
} from '@brokerage/common';
import { TradingAccounts } from './clients/trading-accounts';
import type { UsersConfig } from './config';
import { createUsersContext } from './context';
import { usersDatabase } from './db';
import { UsersRepository } from './db/users-repository';
import { resolvers } from './resolvers';

export const typeDefs = readFileSync(path.join(__dirname, '../schema.graphql'), 'utf8');

/** Opens (and migrates) the users database and serves the users subgraph. */
export function start(
  config: UsersConfig,
  logger: Logger = createLogger({ service: 'users' }),
): Promise<RunningSubgraph> {
  return startDatabaseSubgraph({
    service: 'users',
    config,
    logger,
    typeDefs,
    resolvers,
    ...usersDatabase,
    context: (dataSource) => {
      const users = new UsersRepository(dataSource);
      const tradingAccounts = new TradingAccounts(
        config.ORDERS_SUBGRAPH_URL,
        config.SERVICE_TIMEOUT_MS,
        new InternalTokens(config.INTERNAL_AUTH_SECRET, 'users'),
      );
      return (base) => createUsersContext(base, users, tradingAccounts);
    },
  });
}
