import { createDataSource, dropDatabase, openDatabase } from '@brokerage/postgres';
import type { DataSource } from 'typeorm';
import { testDatabaseUrl, testLogger } from '../../../test/support/services';
import { ordersDatabase } from '../src/db';
import { OrdersRepository } from '../src/db/orders-repository';

// The history rule, at its edges, against the real SQL: an order is listed when it passed its
// check (any status but DENIED), or when it is DENIED with quantity >= 10 and was placed today in
// the business time zone (Asia/Tehran, UTC+03:30: its midnight is 20:30 UTC the day before).

describe('order history rule', () => {
  const url = testDatabaseUrl('orders_history');
  let dataSource: DataSource;
  let repository: OrdersRepository;
  // Noon in Tehran on 2026-11-21; that day began at 2026-11-20T20:30:00Z.
  const now = new Date('2026-11-21T08:30:00Z');
  const ids = new Map<string, string>();

  beforeAll(async () => {
    dataSource = await openDatabase(
      createDataSource({ url, ...ordersDatabase, logger: testLogger('orders') }),
      url,
    );
    repository = new OrdersRepository(dataSource, 'Asia/Tehran');
    const rows: Array<[name: string, status: string, quantity: number, createdAt: string]> = [
      ['denied 10 at midnight', 'DENIED', 10, '2026-11-20T20:30:00Z'],
      ['denied 10 a second before midnight', 'DENIED', 10, '2026-11-20T20:29:59Z'],
      ['denied 9 today', 'DENIED', 9, '2026-11-21T08:00:00Z'],
      ['denied 10 today', 'DENIED', 10, '2026-11-21T08:00:00Z'],
      ['denied 500 last week', 'DENIED', 500, '2026-11-14T08:00:00Z'],
      ['in progress 1 last year', 'IN_PROGRESS', 1, '2025-11-21T08:00:00Z'],
      ['completed 1 last year', 'COMPLETED', 1, '2025-11-21T08:00:00Z'],
      ['failed 2 yesterday', 'FAILED', 2, '2026-11-20T10:00:00Z'],
      ['cancelled 3 today', 'CANCELLED', 3, '2026-11-21T07:00:00Z'],
    ];
    for (const [name, status, quantity, createdAt] of rows) {
      const [row] = await dataSource.query<Array<{ id: string }>>(
        `INSERT INTO orders (side, user_id, stock_id, quantity, price, total, status, message, created_at)
         VALUES ('BUY', 7, '1', $1, 10, $1 * 10, $2, '', $3) RETURNING id`,
        [quantity, status, createdAt],
      );
      ids.set(name, row!.id);
    }
  });

  afterAll(async () => {
    await dataSource.destroy();
    await dropDatabase(url);
  });

  const listed = async (at = now) =>
    (await repository.history({ offset: 0, limit: 100 }, '7', at)).map(
      ({ id }) => [...ids].find(([, value]) => value === id)![0],
    );

  it('lists exactly the orders the rule allows, newest first, ties broken by id', async () => {
    expect(await listed()).toEqual([
      'denied 10 today',
      'cancelled 3 today',
      'denied 10 at midnight',
      'failed 2 yesterday',
      'completed 1 last year',
      'in progress 1 last year',
    ]);
  });

  it('drops the DENIED orders of a day once that day is over in the business time zone', async () => {
    // 20:29:59 UTC is still 23:59:59 of the 21st in Tehran; a second later it is the 22nd.
    expect(await listed(new Date('2026-11-21T20:29:59Z'))).toContain('denied 10 today');
    expect(await listed(new Date('2026-11-21T20:30:00Z'))).not.toContain('denied 10 today');
  });

  it('pages without repeating or skipping a row', async () => {
    const all = await repository.history({ offset: 0, limit: 100 }, '7', now);
    const paged = [
      ...(await repository.history({ offset: 0, limit: 4 }, '7', now)),
      ...(await repository.history({ offset: 4, limit: 4 }, '7', now)),
    ];
    expect(paged.map(({ id }) => id)).toEqual(all.map(({ id }) => id));
  });

  it("answers several users' pages in one query exactly as one query per user would", async () => {
    // User 8 has orders of their own, which must not leak into user 7's page, and user 9 has none.
    await dataSource.query(
      `INSERT INTO orders (side, user_id, stock_id, quantity, price, total, status, message, created_at)
       VALUES ('SELL', 8, '1', 1, 10, 10, 'COMPLETED', '', '2026-11-21T08:20:00Z'),
              ('BUY', 8, '1', 20, 10, 200, 'DENIED', '', '2026-11-21T08:25:00Z')`,
    );
    for (const page of [
      { offset: 0, limit: 3 },
      { offset: 3, limit: 3 },
      { offset: 0, limit: 100 },
    ]) {
      const pages = await repository.historyPagesByUser(['7', '8', '9'], page, now);
      for (const userId of ['7', '8', '9']) {
        const alone = await repository.history(page, userId, now);
        expect(pages.get(userId)!.map(({ id }) => id)).toEqual(alone.map(({ id }) => id));
      }
    }
    expect(
      (await repository.historyPagesByUser(['8'], { offset: 0, limit: 100 }, now)).get('8'),
    ).toHaveLength(2);
  });
});
