import { encodeCursor } from '@brokerage/graphql';
import { createDataSource, openDatabase } from '@brokerage/postgres';
import type { DataSource } from 'typeorm';
import { expectData, graphql } from '../../../test/support/graphql';
import { startPlatformStack, type PlatformStack } from '../../../test/support/platform-stack';
import { testLogger } from '../../../test/support/services';
import { usersDatabase } from '../src/db';

// Users as a cursor connection, through the gateway: walked both ways while users are added,
// refusing forged cursors and sizes out of bounds.

interface Page {
  edges: Array<{ cursor: string; node: { id: string } }>;
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
}

const CONNECTION = `query ($first: Int, $after: String, $last: Int, $before: String) {
  usersConnection(first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

describe('users connection', () => {
  let stack: PlatformStack;
  let dataSource: DataSource;

  const insertUsers = (count: number, createdAt: string) =>
    dataSource.query(
      `INSERT INTO users (name, created_at, updated_at)
       SELECT 'User ' || n, $2::timestamptz, $2::timestamptz FROM generate_series(1, $1) AS n`,
      [count, createdAt],
    );
  const page = async (variables: Record<string, unknown>) =>
    (await expectData<{ usersConnection: Page }>(stack.gatewayUrl, CONNECTION, variables)).usersConnection;

  async function offsetList(): Promise<string[]> {
    const ids: string[] = [];
    for (let pageNum = 1; ; pageNum += 1) {
      const data = await expectData<{ users: Array<{ id: string }> }>(
        stack.gatewayUrl,
        `query ($pageNum: Int) { users(pageNum: $pageNum, pageSize: 100) { id } }`,
        { pageNum },
      );
      ids.push(...data.users.map(({ id }) => id));
      if (data.users.length < 100) return ids;
    }
  }

  beforeAll(async () => {
    stack = await startPlatformStack();
    dataSource = await openDatabase(
      createDataSource({ url: stack.databaseUrls.users, ...usersDatabase, logger: testLogger('users') }),
      stack.databaseUrls.users,
    );
    for (let day = 1; day <= 6; day += 1) await insertUsers(12, `2026-0${day}-01T00:00:00.000007Z`);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await stack?.stop();
  });

  it('walks every user forward without one twice or skipped while users are added, then back again', async () => {
    const all = await offsetList();
    const seen: string[] = [];
    let after: string | null = null;
    let last: Page | undefined;
    for (;;) {
      last = await page({ first: 5, after });
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
      const { edges, pageInfo }: Page = await page({ last: 6, before });
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
    const body = await graphql(stack.gatewayUrl, CONNECTION, variables);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });
});
