import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createLogger, type Logger } from '@brokerage/service';
import { startDatabaseSubgraph, type RunningSubgraph } from '@brokerage/subgraph';
import type { NotificationsConfig } from './config';
import type { NotificationsContext } from './context';
import { notificationsDatabase } from './db';
import { WebhooksRepository } from './db/webhooks-repository';
import { resolvers } from './resolvers';
import { AddressGuard } from './webhooks/address-guard';

export const typeDefs = readFileSync(path.join(__dirname, '../schema.graphql'), 'utf8');

/**
 * Opens (and migrates) the notifications database and serves the notifications subgraph: a
 * user's webhook endpoints and their deliveries. The notifier (`src/notifier`) makes the deliveries.
 */
export async function start(
  config: NotificationsConfig,
  logger: Logger = createLogger({ service: 'notifications' }),
): Promise<RunningSubgraph> {
  const guard = new AddressGuard({
    allowList: config.WEBHOOK_ALLOWED_HOSTS,
    allowHttp: config.NODE_ENV === 'development',
  });
  return startDatabaseSubgraph<NotificationsContext>({
    service: 'notifications',
    config,
    logger,
    typeDefs,
    resolvers,
    ...notificationsDatabase,
    context: (dataSource) => {
      const webhooks = new WebhooksRepository(dataSource);
      return (base) => ({ ...base, webhooks, guard, maxWebhooksPerUser: config.MAX_WEBHOOKS_PER_USER });
    },
  });
}
