import { createDataSource, openDatabase, type DataSourceOptions } from '@brokerage/postgres';
import type { DataSource } from 'typeorm';
import { expectData } from './graphql';
import { startPlatformStack, type PlatformStack } from './platform-stack';
import { testLogger } from './services';

// What the tests of the cursor connections (`listingsConnection`, `ordersConnection`,
// `usersConnection`) stand on: a platform stack, the owning service's database to write rows
// underneath the gateway, one page of the connection and the whole offset list of the same rows.

/** One page of a cursor connection, as the connection tests ask for it. */
export interface ConnectionPage {
  edges: Array<{ cursor: string; node: { id: string } }>;
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
}

export interface ConnectionFixtureOptions {
  /** The subgraph that owns the rows: its database is opened as the test's. */
  service: 'listings' | 'orders' | 'users';
  /** That database's schema (e.g. `listingsDatabase`). */
  database: Pick<DataSourceOptions, 'entities' | 'migrations'>;
  /** The offset list's root field; the connection is the field of the same name + `Connection`. */
  list: string;
  /** Whether the list takes a `userId` argument (a list of one user's rows, or of everyone's). */
  byUser: boolean;
  /** Headers the reads send unless a call gives its own (e.g. an admin's token). */
  headers?: Record<string, string>;
}

export interface ConnectionFixture {
  stack: PlatformStack;
  /** The owning service's database, to insert rows as the service would. */
  dataSource: DataSource;
  /** The operation that reads one page: variables `first`, `after`, `last`, `before` (and `userId`). */
  query: string;
  /** One page of the connection; fails on errors. */
  page(variables: Record<string, unknown>, headers?: Record<string, string>): Promise<ConnectionPage>;
  /** Every id of the offset list, read 100 a page: what a walk of the connection must see. */
  offsetIds(variables?: Record<string, unknown>): Promise<string[]>;
  stop(): Promise<void>;
}

/** Starts a platform stack and opens the owning service's database in it. */
export async function startConnectionFixture(options: ConnectionFixtureOptions): Promise<ConnectionFixture> {
  const { service, database, list, byUser, headers: defaultHeaders = {} } = options;
  const connectionField = `${list}Connection`;
  const userArgument = byUser
    ? { declared: '$userId: ID, ', passed: 'userId: $userId, ' }
    : { declared: '', passed: '' };
  const query = `query (${userArgument.declared}$first: Int, $after: String, $last: Int, $before: String) {
  ${connectionField}(${userArgument.passed}first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;
  const offsetQuery = `query (${userArgument.declared}$pageNum: Int) { ${list}(${userArgument.passed}pageNum: $pageNum, pageSize: 100) { id } }`;

  const stack = await startPlatformStack();
  const url = stack.databaseUrls[service];
  let dataSource: DataSource;
  try {
    dataSource = await openDatabase(createDataSource({ url, ...database, logger: testLogger(service) }), url);
  } catch (error) {
    await stack.stop();
    throw error;
  }

  return {
    stack,
    dataSource,
    query,
    async page(variables, headers = defaultHeaders) {
      const data = await expectData<Record<string, ConnectionPage>>(
        stack.gatewayUrl,
        query,
        variables,
        headers,
      );
      return data[connectionField]!;
    },
    async offsetIds(variables = {}) {
      const ids: string[] = [];
      for (let pageNum = 1; ; pageNum += 1) {
        const data = await expectData<Record<string, Array<{ id: string }>>>(
          stack.gatewayUrl,
          offsetQuery,
          { ...variables, pageNum },
          defaultHeaders,
        );
        const rows = data[list]!;
        ids.push(...rows.map(({ id }) => id));
        if (rows.length < 100) return ids;
      }
    },
    async stop() {
      await dataSource.destroy();
      await stack.stop();
    },
  };
}
