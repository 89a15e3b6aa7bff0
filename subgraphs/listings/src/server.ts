import { readFileSync } from 'node:fs';
import path from 'node:path';
import { InternalTokens } from '@brokerage/auth';
import { createLogger, type Logger } from '@brokerage/service';
import { startDatabaseSubgraph, type RunningSubgraph } from '@brokerage/subgraph';
import type { ListingsConfig } from './config';
import { createListingsContext } from './context';
import { listingsDatabase } from './db';
import { ListingsRepository } from './db/listings-repository';
import { resolvers } from './resolvers';
import { UsersDirectory } from './users/users-directory';

export const typeDefs = readFileSync(path.join(__dirname, '../schema.graphql'), 'utf8');

/** Opens (and migrates) the listings database and serves the listings subgraph. */
export function start(
  config: ListingsConfig,
  logger: Logger = createLogger({ service: 'listings' }),
): Promise<RunningSubgraph> {
  const usersDirectory = new UsersDirectory(
    config.USERS_SUBGRAPH_URL,
    config.USERS_TIMEOUT_MS,
    new InternalTokens(config.INTERNAL_AUTH_SECRET, 'listings'),
  );
  return startDatabaseSubgraph({
    service: 'listings',
    config,
    logger,
    typeDefs,
    resolvers,
    ...listingsDatabase,
    context: (dataSource) => {
      const listings = new ListingsRepository(dataSource);
      return (base) => createListingsContext(base, listings, usersDirectory);
    },
  });
}
