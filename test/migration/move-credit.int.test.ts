import { createDataSource, openDatabase } from '@brokerage/postgres';
import type { DataSource } from 'typeorm';
import { moveCreditToOrders } from '../../scripts/move-credit-to-orders';
import { ordersDatabase } from '../../subgraphs/orders/src/db';
import { checkLedger } from '../../subgraphs/orders/src/db/ledger-check';
import { OrderTransitions } from '../../subgraphs/orders/src/db/order-transitions';
import { usersDatabase } from '../../subgraphs/users/src/db';
import { dropDatabases, testDatabaseUrl, testLogger } from '../support/services';

// A deployment of the version whose users service held credit moves over: every user's credit and
// every open reservation lands in the orders service's trading accounts, the books balance line
// for line, nothing is moved twice, and the users database drops its credit only after the move.

/** The migrations of the version before trading accounts. */
const LEGACY_USERS_MIGRATIONS = 2;
const LEGACY_ORDERS_MIGRATIONS = 3;

async function open(
  url: string,
  database: typeof usersDatabase | typeof ordersDatabase,
  count?: number,
): Promise<DataSource> {
  const migrations = count === undefined ? database.migrations : database.migrations.slice(0, count);
  return openDatabase(createDataSource({ url, entities: [], migrations, logger: testLogger('db') }), url);
}

/**
 * The old books of user 1, who was given 1,000: a completed buy of 300 (captured), an open buy of
 * 200 (reserved), a failed buy of 100 (released), a denied buy of 5,000, and a completed sell that
 * brought 150. Credit left: 1,000 - 300 - 200 + 150 = 650. User 2 was given nothing.
 */
async function seedLegacyWorld(users: DataSource, orders: DataSource): Promise<Record<string, string>> {
  await users.query("INSERT INTO users (name, credit) VALUES ('Ada', 650), ('Bob', 0)");
  const ids: Record<string, string> = {};
  for (const [name, side, status, total] of [
    ['completed', 'BUY', 'COMPLETED', 300],
    ['open', 'BUY', 'IN_PROGRESS', 200],
    ['failed', 'BUY', 'FAILED', 100],
    ['denied', 'BUY', 'DENIED', 5_000],
    ['sold', 'SELL', 'COMPLETED', 150],
  ] as const) {
    const [row] = await orders.query<Array<{ id: string }>>(
      `INSERT INTO orders (side, user_id, stock_id, quantity, price, total, status, message)
       VALUES ($1, 1, '1', 1, $2, $2, $3, '') RETURNING id`,
      [side, total, status],
    );
    ids[name] = row!.id;
  }
  await users.query(
    `INSERT INTO credit_reservations (order_id, user_id, amount, status) VALUES
       ($1, 1, 300, 'CAPTURED'), ($2, 1, 200, 'RESERVED'), ($3, 1, 100, 'RELEASED'), ($4, 1, 5000, 'DENIED')`,
    [ids.completed, ids.open, ids.failed, ids.denied],
  );
  await users.query('INSERT INTO credit_deposits (order_id, user_id, amount) VALUES ($1, 1, 150)', [
    ids.sold,
  ]);
  await orders.query(
    `INSERT INTO outbox (kind, payload, published_at) VALUES ('status', '{"orderId": "1"}', now())`,
  );
  return ids;
}

describe('moving credit from the users database into trading accounts', () => {
  const urls = { users: testDatabaseUrl('users'), orders: testDatabaseUrl('orders') };
  afterEach(() => dropDatabases(urls.users, urls.orders));

  it('moves every balance and reservation exactly, once, and lets the users database drop its credit after', async () => {
    const legacyUsers = await open(urls.users, usersDatabase, LEGACY_USERS_MIGRATIONS);
    const legacyOrders = await open(urls.orders, ordersDatabase, LEGACY_ORDERS_MIGRATIONS);
    const ids = await seedLegacyWorld(legacyUsers, legacyOrders);
    await Promise.all([legacyUsers.destroy(), legacyOrders.destroy()]);

    const moved = await moveCreditToOrders(urls.users, urls.orders, testLogger('move'));
    expect(moved).toEqual({ accountsOpened: 2, cash: 650n, reserved: 200n });
    const again = await moveCreditToOrders(urls.users, urls.orders, testLogger('move'));
    expect(again.accountsOpened).toBe(0);

    const orders = await open(urls.orders, ordersDatabase);
    try {
      expect(await orders.query('SELECT user_id, cash, reserved FROM accounts ORDER BY user_id')).toEqual([
        { user_id: '1', cash: '650', reserved: '200' },
        { user_id: '2', cash: '0', reserved: '0' },
      ]);
      expect(await checkLedger(orders)).toEqual([]);
      // The open buy carries on in the new flow: completing it captures what was moved.
      await new OrderTransitions(orders, 60_000, 1_000_000).finish(ids.open!, 'COMPLETED');
      expect(await orders.query('SELECT cash, reserved FROM accounts WHERE user_id = 1')).toEqual([
        { cash: '650', reserved: '0' },
      ]);
      expect(await checkLedger(orders)).toEqual([]);
    } finally {
      await orders.destroy();
    }

    // Only now may the users service's migration drop the credit.
    const users = await open(urls.users, usersDatabase);
    try {
      // The users service keeps identity (and, since sign-in, credentials); nothing of money.
      const columns = await users.query<Array<{ column_name: string }>>(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'users' ORDER BY column_name",
      );
      expect(columns.map(({ column_name }) => column_name)).toEqual(
        expect.arrayContaining(['created_at', 'id', 'name', 'updated_at']),
      );
      expect(columns.map(({ column_name }) => column_name)).not.toContain('credit');
      const creditTables = await users.query<Array<{ table_name: string }>>(
        "SELECT table_name FROM information_schema.tables WHERE table_name IN ('credit_deposits', 'credit_reservations')",
      );
      expect(creditTables).toEqual([]);
    } finally {
      await users.destroy();
    }
  });

  it('refuses to drop credit that was not moved', async () => {
    const legacyUsers = await open(urls.users, usersDatabase, LEGACY_USERS_MIGRATIONS);
    await legacyUsers.query("INSERT INTO users (name, credit) VALUES ('Ada', 650)");
    await legacyUsers.destroy();
    await expect(open(urls.users, usersDatabase)).rejects.toThrow(/move-credit/);
    const users = await open(urls.users, usersDatabase, LEGACY_USERS_MIGRATIONS);
    expect(await users.query('SELECT credit FROM users')).toEqual([{ credit: '650' }]);
    await users.destroy();
  });

  it('refuses to move while the old flow still has messages to deliver, writing nothing', async () => {
    const legacyUsers = await open(urls.users, usersDatabase, LEGACY_USERS_MIGRATIONS);
    const legacyOrders = await open(urls.orders, ordersDatabase, LEGACY_ORDERS_MIGRATIONS);
    await seedLegacyWorld(legacyUsers, legacyOrders);
    await legacyOrders.query(`INSERT INTO outbox (kind, payload) VALUES ('credit', '{"action": "capture"}')`);
    await Promise.all([legacyUsers.destroy(), legacyOrders.destroy()]);

    await expect(moveCreditToOrders(urls.users, urls.orders, testLogger('move'))).rejects.toThrow(/drain/);
    const orders = await open(urls.orders, ordersDatabase, LEGACY_ORDERS_MIGRATIONS);
    expect(await orders.query("SELECT to_regclass('accounts') AS accounts")).toEqual([{ accounts: null }]);
    await orders.destroy();
  });
});
