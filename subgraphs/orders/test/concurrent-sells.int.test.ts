import { createDataSource, openDatabase } from '@brokerage/postgres';
import type { DataSource } from 'typeorm';
import { dropDatabases, testDatabaseUrl, testLogger } from '../../../test/support/services';
import { ordersDatabase } from '../src/db';
import { OrderTransitions } from '../src/db/order-transitions';

// Sells of one holding placed while others of it finish (completed or cancelled, each freeing or
// taking shares): every sell is answered IN_PROGRESS or DENIED, never an error, and the holding
// never reserves more shares than it has. Found by the chaos test, where a placing statement that
// waited for a finishing one decided on a version of the holding older than the one it changed.

describe('sells placed while other sells of the holding finish', () => {
  const url = testDatabaseUrl('orders');
  let dataSource: DataSource;

  beforeAll(async () => {
    dataSource = await openDatabase(
      createDataSource({ url, ...ordersDatabase, poolSize: 20, logger: testLogger('db') }),
      url,
    );
    await dataSource.query(`INSERT INTO accounts (user_id, cash, reserved) VALUES (1, 1000000, 0)`);
    await dataSource.query(
      `INSERT INTO stock_prices (stock_id, symbol, price, traded_at, seq, updated_at) VALUES ('7', 'stock7', 100, now(), 1, now())`,
    );
    await dataSource.query(
      `INSERT INTO holdings (user_id, stock_id, quantity, reserved) VALUES (1, '7', 5, 0)`,
    );
  });

  afterAll(async () => {
    await dataSource.destroy();
    await dropDatabases(url);
  });

  it('answers every sell and never reserves past the holding', async () => {
    const transitions = new OrderTransitions(dataSource, 60_000, 1_000_000);
    const errors: string[] = [];
    for (let round = 0; round < 30; round++) {
      const open: Array<{ id: string }> = await dataSource.query(
        `SELECT id::text FROM orders WHERE status = 'IN_PROGRESS'`,
      );
      const results = await Promise.allSettled([
        ...[0, 1, 2, 3].map((i) =>
          transitions.placeSell({
            side: 'SELL',
            userId: '1',
            stock: { id: '7' },
            size: { quantity: 1 },
            clientOrderId: `round-${round}-${i}`,
          }),
        ),
        ...open
          .slice(0, 2)
          .map(({ id }, i) =>
            transitions.finishMany([
              { orderId: id, status: i === 0 ? 'CANCELLED' : 'COMPLETED', trace: null },
            ]),
          ),
      ]);
      for (const result of results) if (result.status === 'rejected') errors.push(String(result.reason));
      const [holding] = await dataSource.query<Array<{ quantity: number; reserved: number }>>(
        'SELECT quantity::int, reserved::int FROM holdings',
      );
      expect(holding!.reserved).toBeLessThanOrEqual(holding!.quantity);
      // More shares arrive now and then, so that sells keep finding room.
      if (holding!.quantity - holding!.reserved < 2)
        await dataSource.query('UPDATE holdings SET quantity = quantity + 3');
    }
    expect(errors).toEqual([]);
  });
});
