import { createDataSource, openDatabase } from '@brokerage/postgres';
import type { DataSource } from 'typeorm';
import { dropDatabases, testDatabaseUrl, testLogger } from '../../../test/support/services';
import { ordersDatabase } from '../src/db';
import { AccountsRepository } from '../src/db/accounts-repository';
import { checkLedger } from '../src/db/ledger-check';
import { OrderTransitions, type FinalStatus } from '../src/db/order-transitions';

// Buys of one account placed all at once from many connections, while earlier buys of it finish
// (captured, released by a failure or a cancel) and cash is withdrawn and deposited: the buy
// statement locks the account in a CTE and reserves in another, the shape in which a sell once
// decided on an older version of its holding than the one it changed (concurrent-sells). Every
// buy must be answered IN_PROGRESS or DENIED, never an error, the account never overdrawn, and the
// books exact. The cash is kept near the orders' totals, so that most decisions are close calls.

const CONNECTIONS = 24;
const ROUNDS = 60;
const PRICE = 100;

describe('buys of one account placed while other buys of it finish', () => {
  const url = testDatabaseUrl('orders');
  let dataSource: DataSource;

  beforeAll(async () => {
    dataSource = await openDatabase(
      createDataSource({ url, ...ordersDatabase, poolSize: CONNECTIONS + 4, logger: testLogger('db') }),
      url,
    );
    await new AccountsRepository(dataSource).open('1', 1_000);
    await dataSource.query(
      `INSERT INTO stock_prices (stock_id, symbol, price, traded_at, seq) VALUES ('7', 'stock7', $1, '20261121090000', 1)`,
      [PRICE],
    );
    // Every connection of the pool open before the first round, so that a round's statements
    // start together rather than one per connection handshake.
    await Promise.all(
      Array.from({ length: CONNECTIONS + 4 }, () => dataSource.query('SELECT pg_sleep(0.05)')),
    );
  });

  afterAll(async () => {
    await dataSource.destroy();
    await dropDatabases(url);
  });

  it('answers every buy, never overdraws the account, and keeps the books exact', async () => {
    const transitions = new OrderTransitions(dataSource, 60_000, 1_000_000);
    const accounts = new AccountsRepository(dataSource);
    const errors: string[] = [];
    const answered = { IN_PROGRESS: 0, DENIED: 0 };
    const finishes: FinalStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED'];
    for (let round = 0; round < ROUNDS; round++) {
      const open: Array<{ id: string }> = await dataSource.query(
        `SELECT id::text FROM orders WHERE status = 'IN_PROGRESS' ORDER BY random() LIMIT 6`,
      );
      // Built first and started in one go: the statements reach PostgreSQL together.
      const work: Array<() => Promise<unknown>> = [
        ...Array.from({ length: CONNECTIONS - open.length - 2 }, (_, i) => async () => {
          const placed = await transitions.placeBuy({
            side: 'BUY',
            userId: '1',
            stock: { id: '7' },
            size: { quantity: 1 + ((round + i) % 4) },
            clientOrderId: `round-${round}-${i}`,
          });
          if (!placed) throw new Error('a buy was neither placed nor denied');
          answered[placed.status as keyof typeof answered] += 1;
        }),
        ...open.map(
          ({ id }, i) =>
            () =>
              transitions.finishMany([{ orderId: id, status: finishes[(round + i) % 3]!, trace: null }]),
        ),
        () => accounts.withdraw('1', 150, `withdraw-${round}`).catch(() => undefined),
        () => accounts.deposit('1', 400, `deposit-${round}`),
      ];
      const results = await Promise.allSettled(work.map((start) => start()));
      for (const result of results) if (result.status === 'rejected') errors.push(String(result.reason));
      const [account] = await dataSource.query<Array<{ cash: number; reserved: number }>>(
        'SELECT cash::int, reserved::int FROM accounts',
      );
      expect(account!.cash).toBeGreaterThanOrEqual(0);
    }
    expect(errors).toEqual([]);
    expect(await checkLedger(dataSource)).toEqual([]);
    // Both answers were given many times: the cash stayed near the totals, so decisions were close.
    expect(answered.IN_PROGRESS).toBeGreaterThan(ROUNDS);
    expect(answered.DENIED).toBeGreaterThan(ROUNDS);
  });
});
