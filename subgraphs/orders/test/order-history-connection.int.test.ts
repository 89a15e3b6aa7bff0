import { encodeCursor } from '@brokerage/graphql';
import { asAdmin, asUser } from '../../../test/support/auth';
import {
  startConnectionFixture,
  type ConnectionFixture,
  type ConnectionPage,
} from '../../../test/support/connections';
import { expectData, graphql } from '../../../test/support/graphql';
import { ordersDatabase } from '../src/db';
import { OrdersRepository } from '../src/db/orders-repository';

// The order history as a cursor connection, through the gateway: walked to its end while orders
// are placed, read backward, batched for a page of users, and refusing forged cursors and sizes.

describe('order history connection', () => {
  let connection: ConnectionFixture;
  let admin: Record<string, string>;
  const USER = '7001';

  const insertOrders = (
    userId: string,
    count: number,
    createdAt: string,
    status = 'COMPLETED',
    quantity = 1,
  ) =>
    connection.dataSource.query(
      `INSERT INTO orders (side, user_id, stock_id, quantity, price, total, status, message, created_at)
       SELECT 'BUY', $1, '1', $4, 10, $4 * 10, $3, '', $5::timestamptz
         FROM generate_series(1, $2) AS n`,
      [userId, count, status, quantity, createdAt],
    );

  /** The history as the offset list sees it, all of it (100 a page), read by an admin. */
  const offsetHistory = (userId: string) => connection.offsetIds({ userId });

  beforeAll(async () => {
    admin = await asAdmin();
    connection = await startConnectionFixture({
      service: 'orders',
      database: ordersDatabase,
      list: 'orders',
      byUser: true,
      headers: admin,
    });
    // Runs of orders sharing one created_at (ties break by id), orders the rule hides (DENIED of
    // fewer than 10 shares, DENIED on an earlier day) and another user's orders in between.
    for (let day = 1; day <= 9; day += 1) {
      const at = `2026-0${day}-15T10:00:00.123456Z`;
      await insertOrders(USER, 20, at);
      await insertOrders(USER, 3, at, 'DENIED', 5);
      await insertOrders(USER, 2, at, 'DENIED', 50);
      await insertOrders('7002', 4, at);
    }
  });

  afterAll(async () => {
    await connection?.stop();
  });

  it('walks the whole history without a row twice or skipped while orders are being placed', async () => {
    const before = await offsetHistory(USER);
    expect(before).toHaveLength(180);
    const seen: string[] = [];
    let after: string | null = null;
    let placed = 0;
    for (;;) {
      const { edges, pageInfo }: ConnectionPage = await connection.page({ userId: USER, first: 7, after });
      seen.push(...edges.map(({ node }) => node.id));
      expect(pageInfo.hasPreviousPage).toBe(after !== null);
      // New orders arrive at the newest end, ahead of where the walk is.
      await insertOrders(USER, 3, new Date().toISOString());
      placed += 3;
      if (!pageInfo.hasNextPage) break;
      after = pageInfo.endCursor;
    }
    expect(placed).toBeGreaterThan(20);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(before);
  });

  it('reads backward from a cursor to the newest end, newest first', async () => {
    const all = await offsetHistory(USER);
    const middle = (await connection.page({ userId: USER, first: 50 })).edges[49]!.cursor;
    const newer: string[] = [];
    let before: string | null = middle;
    for (;;) {
      const { edges, pageInfo }: ConnectionPage = await connection.page({ userId: USER, last: 9, before });
      newer.unshift(...edges.map(({ node }) => node.id));
      expect(pageInfo.hasNextPage).toBe(true);
      if (!pageInfo.hasPreviousPage) break;
      before = pageInfo.startCursor;
    }
    expect(newer).toEqual(all.slice(0, 49));
  });

  it('answers a page of users in one batch exactly as one query per user would', async () => {
    const repository = new OrdersRepository(connection.dataSource, 'Asia/Tehran');
    const first = await repository.historyConnection({ direction: 'forward', limit: 5 }, USER);
    for (const connectionPage of [
      { direction: 'forward' as const, limit: 5 },
      {
        direction: 'forward' as const,
        limit: 30,
        cursor: { createdAt: '2026-05-15T10:00:00.123456Z', id: '1' },
      },
      {
        direction: 'backward' as const,
        limit: 4,
        cursor: { createdAt: '2026-03-15T10:00:00.123456Z', id: '1' },
      },
    ]) {
      const batch = await repository.historyConnectionsByUser([USER, '7002', '7003'], connectionPage);
      for (const userId of [USER, '7002', '7003']) {
        expect(batch.get(userId)).toEqual(await repository.historyConnection(connectionPage, userId));
      }
    }
    expect(first.edges).toHaveLength(5);
  });

  it('serves User.ordersConnection to the user and keeps other users out', async () => {
    const { createUser } = await expectData<{ createUser: { id: string } }>(
      connection.stack.gatewayUrl,
      'mutation { createUser(input: { name: "Reader" }) { id } }',
      {},
      admin,
    );
    await insertOrders(createUser.id, 3, '2026-06-01T00:00:00.000001Z');
    const query = `query ($id: ID!) { user(id: $id) { ordersConnection(first: 2) { edges { node { id } } pageInfo { hasNextPage } } } }`;
    const data = await expectData<{ user: { ordersConnection: ConnectionPage } }>(
      connection.stack.gatewayUrl,
      query,
      { id: createUser.id },
      await asUser(createUser.id),
    );
    expect(data.user.ordersConnection.edges).toHaveLength(2);
    expect(data.user.ordersConnection.pageInfo.hasNextPage).toBe(true);
    const stranger = await graphql(
      connection.stack.gatewayUrl,
      connection.query,
      { userId: createUser.id },
      await asUser(USER),
    );
    expect(stranger.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it.each([
    ['not base64url', { after: 'not a cursor!' }, 'after'],
    ['base64url of nonsense', { after: Buffer.from('hello').toString('base64url') }, 'after'],
    [
      'another list',
      { after: encodeCursor('listings', { createdAt: '2026-01-01T00:00:00.000000Z', id: '5' }) },
      'after',
    ],
    [
      'no real day',
      { before: encodeCursor('orders', { createdAt: '2026-02-30T00:00:00.000000Z', id: '5' }) },
      'before',
    ],
    [
      'a bad id',
      { after: encodeCursor('orders', { createdAt: '2026-01-01T00:00:00.000000Z', id: '05' }) },
      'after',
    ],
    [
      'an id past bigint',
      { after: encodeCursor('orders', { createdAt: '2026-01-01T00:00:00.000000Z', id: '9'.repeat(19) }) },
      'after',
    ],
    ['first 0', { first: 0 }, 'first'],
    ['first 101', { first: 101 }, 'first'],
    ['last -1', { last: -1 }, 'last'],
    ['both directions', { first: 5, last: 5 }, 'last'],
  ])('refuses %s with BAD_USER_INPUT naming the argument', async (_name, variables, field) => {
    const body = await graphql(
      connection.stack.gatewayUrl,
      connection.query,
      { userId: USER, ...variables },
      admin,
    );
    expect(body.data).toBeNull();
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });

  it("never shows another user's rows for a cursor taken from them, and pages at 100 at most", async () => {
    const theirs = (await connection.page({ userId: '7002', first: 3 })).pageInfo.endCursor;
    const mine = await connection.page({ userId: USER, first: 100, after: theirs });
    expect(mine.edges).toHaveLength(100);
    const ids = new Set(await offsetHistory(USER));
    for (const { node } of mine.edges) expect(ids.has(node.id)).toBe(true);
  });
});
