import { createDataSource, openDatabase } from '@brokerage/postgres';
import { createLogger, loadConfig } from '@brokerage/service';
import { ordersConfigSchema } from '../subgraphs/orders/src/config';
import { ordersDatabase } from '../subgraphs/orders/src/db';
import { checkLedger } from '../subgraphs/orders/src/db/ledger-check';

// `npm run check-ledger`: proves the books of the orders database (ORDERS_DATABASE_URL): every
// balance equals the sum of its ledger, and every order moved exactly the money its status says.
// Exits 1 and lists what does not add up otherwise.

const logger = createLogger({ service: 'check-ledger' });

async function main(): Promise<number> {
  const { DATABASE_URL: url } = loadConfig(ordersConfigSchema, {
    DATABASE_URL: process.env.ORDERS_DATABASE_URL,
  });
  const dataSource = await openDatabase(createDataSource({ url, ...ordersDatabase, logger }), url);
  try {
    const discrepancies = await checkLedger(dataSource);
    for (const discrepancy of discrepancies) logger.error(discrepancy, 'does not add up');
    logger.info(
      { discrepancies: discrepancies.length },
      discrepancies.length === 0 ? 'the books balance' : 'the books do not balance',
    );
    return discrepancies.length === 0 ? 0 : 1;
  } finally {
    await dataSource.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    logger.error({ err: error }, 'ledger check failed');
    process.exit(2);
  },
);
