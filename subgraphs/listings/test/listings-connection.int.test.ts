import { encodeCursor } from '@brokerage/graphql';
import { asAdmin } from '../../../test/support/auth';
import {
  startConnectionFixture,
  type ConnectionFixture,
  type ConnectionPage,
} from '../../../test/support/connections';
import { expectData, graphql } from '../../../test/support/graphql';
import { listingsDatabase } from '../src/db';
import { ListingsRepository } from '../src/db/listings-repository';

// Listings as cursor connections, through the gateway: walked to the end while listings are
// added, of everyone and of one owner, batched for a page of users, refusing forged cursors.

describe('listings connection', () => {
  let connection: ConnectionFixture;
  let admin: Record<string, string>;

  const insertListings = (userId: string, count: number, createdAt: string) =>
    connection.dataSource.query(
      `INSERT INTO listings (user_id, listing_type, price, created_at, updated_at)
       SELECT $1, 'SALE', 1000 + n, $3::timestamptz, $3::timestamptz FROM generate_series(1, $2) AS n`,
      [userId, count, createdAt],
    );

  const offsetList = (userId: string | null) => connection.offsetIds({ userId });

  async function walk(userId: string | null, first: number): Promise<string[]> {
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const { edges, pageInfo } = await connection.page({ userId, first, after });
      seen.push(...edges.map(({ node }) => node.id));
      await insertListings(userId ?? '8001', 2, new Date().toISOString());
      if (!pageInfo.hasNextPage) return seen;
      after = pageInfo.endCursor;
    }
  }

  beforeAll(async () => {
    admin = await asAdmin();
    connection = await startConnectionFixture({
      service: 'listings',
      database: listingsDatabase,
      list: 'listings',
      byUser: true,
    });
    for (let day = 1; day <= 9; day += 1) {
      const at = `2026-0${day}-15T10:00:00.654321Z`;
      await insertListings('8001', 15, at);
      await insertListings('8002', 5, at);
    }
  });

  afterAll(async () => {
    await connection?.stop();
  });

  it("walks one owner's listings and everyone's without a row twice or skipped while listings are added", async () => {
    const mine = await offsetList('8001');
    expect(await walk('8001', 8)).toEqual(mine);
    const everyone = await offsetList(null);
    const walked = await walk(null, 30);
    expect(new Set(walked).size).toBe(walked.length);
    expect(walked).toEqual(everyone);
  });

  it('reads backward from a cursor', async () => {
    const all = await offsetList('8002');
    const middle = all.length - 10;
    const { edges } = await connection.page({ userId: '8002', first: middle + 1 });
    const listingsConnection = await connection.page({
      userId: '8002',
      last: 4,
      before: edges[middle]!.cursor,
    });
    expect(listingsConnection.edges.map(({ node }) => node.id)).toEqual(all.slice(middle - 4, middle));
    expect(listingsConnection.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
  });

  it('answers a page of owners in one batch exactly as one query per owner would', async () => {
    const repository = new ListingsRepository(connection.dataSource);
    for (const page of [
      { direction: 'forward' as const, limit: 7 },
      {
        direction: 'forward' as const,
        limit: 20,
        cursor: { createdAt: '2026-05-15T10:00:00.654321Z', id: '1' },
      },
      {
        direction: 'backward' as const,
        limit: 3,
        cursor: { createdAt: '2026-02-15T10:00:00.654321Z', id: '1' },
      },
    ]) {
      const batch = await repository.connectionsByOwner(['8001', '8002', '8003'], page);
      for (const owner of ['8001', '8002', '8003']) {
        expect(batch.get(owner)).toEqual(await repository.connection(page, owner));
      }
    }
  });

  it('serves User.listingsConnection', async () => {
    const { createUser } = await expectData<{ createUser: { id: string } }>(
      connection.stack.gatewayUrl,
      'mutation { createUser(input: { name: "Owner" }) { id } }',
      {},
      admin,
    );
    await insertListings(createUser.id, 3, '2026-06-01T00:00:00.000001Z');
    const data = await expectData<{ user: { listingsConnection: ConnectionPage } }>(
      connection.stack.gatewayUrl,
      `query ($id: ID!) { user(id: $id) { listingsConnection(first: 2) { edges { node { id } } pageInfo { hasNextPage } } } }`,
      { id: createUser.id },
    );
    expect(data.user.listingsConnection.edges).toHaveLength(2);
    expect(data.user.listingsConnection.pageInfo.hasNextPage).toBe(true);
  });

  it.each([
    ['garbage', { after: '%%%' }, 'after'],
    [
      'an orders cursor',
      { after: encodeCursor('orders', { createdAt: '2026-01-01T00:00:00.000000Z', id: '5' }) },
      'after',
    ],
    [
      'a bad timestamp',
      { before: encodeCursor('listings', { createdAt: '2026-13-01T00:00:00.000000Z', id: '5' }) },
      'before',
    ],
    ['first 101', { first: 101 }, 'first'],
    ['last 0', { last: 0 }, 'last'],
  ])('refuses %s with BAD_USER_INPUT naming the argument', async (_name, variables, field) => {
    const body = await graphql(connection.stack.gatewayUrl, connection.query, variables);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });
});
