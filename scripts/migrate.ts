import { createDataSource, openDatabase } from '@brokerage/postgres';
import { createLogger, loadConfig } from '@brokerage/service';
import { listingsConfigSchema } from '../subgraphs/listings/src/config';
import { listingsDatabase } from '../subgraphs/listings/src/db';
import { notificationsConfigSchema } from '../subgraphs/notifications/src/config';
import { notificationsDatabase } from '../subgraphs/notifications/src/db';
import { ordersConfigSchema } from '../subgraphs/orders/src/config';
import { ordersDatabase } from '../subgraphs/orders/src/db';
import { stocksConfigSchema } from '../subgraphs/stocks/src/config';
import { stocksDatabase } from '../subgraphs/stocks/src/db';
import { usersConfigSchema } from '../subgraphs/users/src/config';
import { usersDatabase } from '../subgraphs/users/src/db';

// `npm run migrate`: applies each owning service's pending migrations, exactly as the service does
// when it starts, as the service's own role (which owns its database: `npm run provision` first). Database URLs come from USERS_DATABASE_URL,
// LISTINGS_DATABASE_URL, STOCKS_DATABASE_URL, ORDERS_DATABASE_URL and NOTIFICATIONS_DATABASE_URL
// (each service reads its own as DATABASE_URL).

const logger = createLogger({ service: 'migrate' });

const databases = [
  { name: 'users', schema: usersConfigSchema, variable: 'USERS_DATABASE_URL', ...usersDatabase },
  { name: 'listings', schema: listingsConfigSchema, variable: 'LISTINGS_DATABASE_URL', ...listingsDatabase },
  { name: 'stocks', schema: stocksConfigSchema, variable: 'STOCKS_DATABASE_URL', ...stocksDatabase },
  { name: 'orders', schema: ordersConfigSchema, variable: 'ORDERS_DATABASE_URL', ...ordersDatabase },
  {
    name: 'notifications',
    schema: notificationsConfigSchema,
    variable: 'NOTIFICATIONS_DATABASE_URL',
    ...notificationsDatabase,
  },
];

async function main() {
  for (const { name, schema, variable, entities, migrations } of databases) {
    const { DATABASE_URL: url } = loadConfig(schema, { DATABASE_URL: process.env[variable] });
    const dataSource = await openDatabase(
      createDataSource({ url, entities, migrations, logger: logger.child({ database: name }) }),
      url,
    );
    await dataSource.destroy();
    logger.info({ database: name }, 'migrations applied');
  }
}

main().catch((error: unknown) => {
  logger.error({ err: error }, 'migration failed');
  process.exit(1);
});
