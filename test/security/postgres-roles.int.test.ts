import { createDataSource, dropDatabase, openDatabase } from '@brokerage/postgres';
import { Client } from 'pg';
import { ordersDatabase } from '../../subgraphs/orders/src/db';
import { usersDatabase } from '../../subgraphs/users/src/db';
import { provisionPostgres } from '../../scripts/provision-stores';
import { testDatabaseUrl, testLogger, testPostgresBaseUrl } from '../support/services';

const owners = ['users', 'listings', 'stocks', 'orders'] as const;
type Owner = (typeof owners)[number];

/** The URL of a test database, as the role `role` connects to it. */
function asRole(databaseUrl: string, role: string): string {
  const url = new URL(databaseUrl);
  url.username = role;
  url.password = '';
  return url.toString();
}

async function connectionError(url: string): Promise<{ code?: string } | undefined> {
  const client = new Client({ connectionString: url });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return error as { code?: string };
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function query<T>(url: string, text: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('each service reaches PostgreSQL as its own role, owning its database only', () => {
  // Every service's database, owned by its role, made as `npm run provision` makes it.
  const databases = Object.fromEntries(
    owners.map((owner) => [owner, asRole(testDatabaseUrl(owner), owner)]),
  ) as Record<Owner, string>;
  const logger = testLogger('provision');

  beforeAll(async () => {
    for (const owner of owners) await provisionPostgres(testPostgresBaseUrl, databases[owner], logger);
  }, 60_000);

  afterAll(async () => {
    for (const owner of owners) await dropDatabase(asRole(databases[owner], 'postgres'));
  });

  it('runs the service migrations as its role, which then owns every table', async () => {
    for (const [owner, database] of [
      ['orders', ordersDatabase],
      ['users', usersDatabase],
    ] as const) {
      const url = databases[owner];
      const dataSource = await openDatabase(createDataSource({ url, ...database, logger }), url);
      await dataSource.destroy();
      const tables = await query<{ tablename: string; tableowner: string }>(
        url,
        "SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public'",
      );
      expect(tables.length).toBeGreaterThan(1);
      expect(new Set(tables.map(({ tableowner }) => tableowner))).toEqual(new Set([owner]));
    }
  }, 60_000);

  it('refuses every role a connection to another service database', async () => {
    for (const role of owners) {
      expect(await connectionError(databases[role])).toBeUndefined();
      for (const other of owners.filter((owner) => owner !== role)) {
        const error = await connectionError(asRole(databases[other], role));
        // 42501: permission denied for database (CONNECT is revoked from PUBLIC).
        expect({ role, database: other, code: error?.code }).toEqual({
          role,
          database: other,
          code: '42501',
        });
      }
    }
  });

  it('keeps the orders role from reading the users database even where the users tables are', async () => {
    const error = await connectionError(asRole(databases.users, 'orders'));
    expect(error?.code).toBe('42501');
    // The users data is there for its own role.
    const rows = await query<{ count: string }>(databases.users, 'SELECT count(*) FROM users');
    expect(rows.map(({ count }) => Number(count))).toEqual([0]);
  });

  it('gives the roles no power beyond their databases', async () => {
    const roles = await query<{
      rolname: string;
      rolsuper: boolean;
      rolcreatedb: boolean;
      rolcreaterole: boolean;
    }>(
      asRole(databases.orders, 'postgres'),
      `SELECT rolname, rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname IN ('users', 'listings', 'stocks', 'orders')`,
    );
    expect(roles).toHaveLength(4);
    for (const role of roles)
      expect(role).toEqual({ ...role, rolsuper: false, rolcreatedb: false, rolcreaterole: false });
    // The service's own role may not make databases: a missing one is provisioned, not improvised.
    const missing = asRole(testDatabaseUrl('orders'), 'orders');
    await expect(
      openDatabase(createDataSource({ url: missing, ...ordersDatabase, logger }), missing),
    ).rejects.toThrow(/may not create it: run npm run provision/);
  });

  it('hands a database made earlier by the superuser to the role, so that its migrations can change it', async () => {
    const url = asRole(testDatabaseUrl('listings'), 'postgres');
    const admin = new Client({ connectionString: asRole(testPostgresBaseUrl, 'postgres') });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE "${new URL(url).pathname.slice(1)}"`);
    } finally {
      await admin.end();
    }
    try {
      await query(url, 'CREATE TABLE legacy (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text)');
      const asListings = asRole(url, 'listings');
      await provisionPostgres(testPostgresBaseUrl, asListings, logger);
      // Twice: provisioning again changes nothing and fails on nothing.
      await provisionPostgres(testPostgresBaseUrl, asListings, logger);
      await query(asListings, 'ALTER TABLE legacy ADD COLUMN added integer');
      await query(asListings, "INSERT INTO legacy (name) VALUES ('kept')");
      expect(await connectionError(asRole(url, 'orders'))).toMatchObject({ code: '42501' });
    } finally {
      await dropDatabase(url);
    }
  });
});
