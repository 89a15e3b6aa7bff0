import { encodeCursor } from '@brokerage/graphql';
import { createDataSource, openDatabase } from '@brokerage/postgres';
import type { DataSource } from 'typeorm';
import { asAdmin } from '../../../test/support/auth';
import { expectData, graphql } from '../../../test/support/graphql';
import { startPlatformStack, type PlatformStack } from '../../../test/support/platform-stack';
import { testLogger } from '../../../test/support/services';
import { listingsDatabase } from '../src/db';
import { ListingsRepository } from '../src/db/listings-repository';

// Listings as cursor connections, through the gateway: walked to the end while listings are
// added, of everyone and of one owner, batched for a page of users, refusing forged cursors.

interface Page {
  edges: Array<{ cursor: string; node: { id: string } }>;
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
}

const CONNECTION = `query ($userId: ID, $first: Int, $after: String, $last: Int, $before: String) {
  listingsConnection(userId: $userId, first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

describe('listings connection', () => {
  let stack: PlatformStack;
  let dataSource: DataSource;
  let admin: Record<string, string>;

  const insertListings = (userId: string, count: number, createdAt: string) =>
    dataSource.query(
      `INSERT INTO listings (user_id, listing_type, price, created_at, updated_at)
       SELECT $1, 'SALE', 1000 + n, $3::timestamptz, $3::timestamptz FROM generate_series(1, $2) AS n`,
      [userId, count, createdAt],
    );

  async function offsetList(userId: string | null): Promise<string[]> {
    const ids: string[] = [];
    for (let pageNum = 1; ; pageNum += 1) {
      const data = await expectData<{ listings: Array<{ id: string }> }>(
        stack.gatewayUrl,
        `query ($userId: ID, $pageNum: Int) { listings(userId: $userId, pageNum: $pageNum, pageSize: 100) { id } }`,
        { userId, pageNum },
      );
      ids.push(...data.listings.map(({ id }) => id));
      if (data.listings.length < 100) return ids;
    }
  }

  async function walk(userId: string | null, first: number): Promise<string[]> {
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const data: { listingsConnection: Page } = await expectData(stack.gatewayUrl, CONNECTION, {
        userId,
        first,
        after,
      });
      const { edges, pageInfo } = data.listingsConnection;
      seen.push(...edges.map(({ node }) => node.id));
      await insertListings(userId ?? '8001', 2, new Date().toISOString());
      if (!pageInfo.hasNextPage) return seen;
      after = pageInfo.endCursor;
    }
  }

  beforeAll(async () => {
    admin = await asAdmin();
    stack = await startPlatformStack();
    dataSource = await openDatabase(
      createDataSource({
        url: stack.databaseUrls.listings,
        ...listingsDatabase,
        logger: testLogger('listings'),
      }),
      stack.databaseUrls.listings,
    );
    for (let day = 1; day <= 9; day += 1) {
      const at = `2026-0${day}-15T10:00:00.654321Z`;
      await insertListings('8001', 15, at);
      await insertListings('8002', 5, at);
    }
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await stack?.stop();
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
    const { edges } = (
      await expectData<{ listingsConnection: Page }>(stack.gatewayUrl, CONNECTION, {
        userId: '8002',
        first: middle + 1,
      })
    ).listingsConnection;
    const { listingsConnection } = await expectData<{ listingsConnection: Page }>(
      stack.gatewayUrl,
      CONNECTION,
      {
        userId: '8002',
        last: 4,
        before: edges[middle]!.cursor,
      },
    );
    expect(listingsConnection.edges.map(({ node }) => node.id)).toEqual(all.slice(middle - 4, middle));
    expect(listingsConnection.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
  });

  it('answers a page of owners in one batch exactly as one query per owner would', async () => {
    const repository = new ListingsRepository(dataSource);
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
      stack.gatewayUrl,
      'mutation { createUser(input: { name: "Owner" }) { id } }',
      {},
      admin,
    );
    await insertListings(createUser.id, 3, '2026-06-01T00:00:00.000001Z');
    const data = await expectData<{ user: { listingsConnection: Page } }>(
      stack.gatewayUrl,
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
    const body = await graphql(stack.gatewayUrl, CONNECTION, variables);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });
});
