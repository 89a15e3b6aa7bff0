import { encodeCursor } from '@brokerage/graphql';
import {
  startConnectionFixture,
  type ConnectionFixture,
  type ConnectionPage,
} from '../../../test/support/connections';
import { graphql } from '../../../test/support/graphql';
import { usersDatabase } from '../src/db';

// Users as a cursor connection, through the gateway: walked both ways while users are added,
// refusing forged cursors and sizes out of bounds.

describe('users connection', () => {
  let connection: ConnectionFixture;

  const insertUsers = (count: number, createdAt: string) =>
    connection.dataSource.query(
      `INSERT INTO users (name, created_at, updated_at)
       SELECT 'User ' || n, $2::timestamptz, $2::timestamptz FROM generate_series(1, $1) AS n`,
      [count, createdAt],
    );

  beforeAll(async () => {
    connection = await startConnectionFixture({
      service: 'users',
      database: usersDatabase,
      list: 'users',
      byUser: false,
    });
    for (let day = 1; day <= 6; day += 1) await insertUsers(12, `2026-0${day}-01T00:00:00.000007Z`);
  });

  afterAll(async () => {
    await connection?.stop();
  });

  it('walks every user forward without one twice or skipped while users are added, then back again', async () => {
    const all = await connection.offsetIds();
    const seen: string[] = [];
    let after: string | null = null;
    let last: ConnectionPage | undefined;
    for (;;) {
      last = await connection.page({ first: 5, after });
      seen.push(...last.edges.map(({ node }) => node.id));
      await insertUsers(1, new Date().toISOString());
      if (!last.pageInfo.hasNextPage) break;
      after = last.pageInfo.endCursor;
    }
    expect(seen).toEqual(all);
    // Backward from the oldest user to the first one read forward, skipping those added since.
    const back: string[] = [];
    let before: string | null = last.pageInfo.endCursor;
    back.unshift(all[all.length - 1]!);
    for (;;) {
      const { edges, pageInfo }: ConnectionPage = await connection.page({ last: 6, before });
      back.unshift(...edges.map(({ node }) => node.id));
      if (!pageInfo.hasPreviousPage) break;
      before = pageInfo.startCursor;
    }
    expect(back.slice(back.indexOf(all[0]!))).toEqual(all);
  });

  it.each([
    ['garbage', { after: 'AAAA' }, 'after'],
    [
      'a listings cursor',
      { before: encodeCursor('listings', { createdAt: '2026-01-01T00:00:00.000000Z', id: '5' }) },
      'before',
    ],
    ['first 101', { first: 101 }, 'first'],
    [
      'both directions',
      { after: encodeCursor('users', { createdAt: '2026-01-01T00:00:00.000000Z', id: '5' }), last: 3 },
      'last',
    ],
  ])('refuses %s with BAD_USER_INPUT naming the argument', async (_name, variables, field) => {
    const body = await graphql(connection.stack.gatewayUrl, connection.query, variables);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });
});
