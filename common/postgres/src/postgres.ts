import { Client, type Pool } from 'pg';
import {
  DataSource,
  type EntitySchema,
  type Logger as TypeOrmLogger,
  type MixedList,
  type QueryRunner,
} from 'typeorm';
import type { Logger, ServiceMetrics } from '@brokerage/service';

// Any fixed number works; it only has to be the same in every replica of every service.
const MIGRATION_LOCK_KEY = 7_210_442_113;

/** The database name in a postgres:// URL. */
export function databaseName(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`unsupported database name "${name}"`);
  return name;
}

/**
 * Creates the URL's database when it does not exist yet (each owning service creates its own), as
 * far as the URL's role may: a service's least-privileged role finds it made by `npm run provision`.
 */
export async function ensureDatabase(url: string): Promise<void> {
  const name = databaseName(url);
  // Connecting to it answers the question without the `postgres` database, which a least-privileged
  // role may have no right to connect to.
  const probe = new Client({ connectionString: url });
  try {
    await probe.connect();
    return;
  } catch (error) {
    if ((error as { code?: string }).code !== '3D000') throw error;
  } finally {
    await probe.end().catch(() => undefined);
  }
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } catch (error) {
        const code = (error as { code?: string }).code;
        // A service's own role may not create databases: `npm run provision` makes them.
        if (code === '42501')
          throw new Error(
            `database "${name}" does not exist and role "${decodeURIComponent(admin.username)}" may not create it: run npm run provision`,
            { cause: error },
          );
        // Another replica created it between our check and our CREATE: that is fine.
        if (code !== '42P04' && code !== '23505') throw error;
      }
    }
  } finally {
    await client.end();
  }
}

/** Drops a database, ending its sessions first; for tests that made their own. */
export async function dropDatabase(url: string): Promise<void> {
  const name = databaseName(url);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** Counts every statement in the service's metrics and logs failures and slow statements. */
class ObservedQueryLogger implements TypeOrmLogger {
  constructor(
    private readonly logger: Logger,
    private readonly metrics: ServiceMetrics | undefined,
  ) {}
  logQuery(query: string, _parameters?: unknown[], _runner?: QueryRunner) {
    this.metrics?.dbQueries.inc({ outcome: 'ok' });
    this.logger.trace({ query }, 'sql');
  }
  logQueryError(error: string | Error, query: string, _parameters?: unknown[], _runner?: QueryRunner) {
    this.metrics?.dbQueries.inc({ outcome: 'error' });
    this.logger.warn({ err: error, query }, 'sql failed');
  }
  logQuerySlow(time: number, query: string) {
    this.logger.warn({ ms: time, query }, 'slow sql');
  }
  logSchemaBuild(message: string) {
    this.logger.debug(message);
  }
  logMigration(message: string) {
    this.logger.info(message);
  }
  log(level: 'log' | 'info' | 'warn', message: unknown) {
    this.logger[level === 'warn' ? 'warn' : 'debug']({ message }, 'typeorm');
  }
}

export interface DataSourceOptions {
  url: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: MixedList<EntitySchema | Function>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function>;
  logger: Logger;
  metrics?: ServiceMetrics;
  poolSize?: number;
}

/**
 * A TypeORM data source for one service's own database. The schema changes only through
 * migrations (never `synchronize`); `openDatabase` applies them.
 */
export function createDataSource({
  url,
  entities,
  migrations,
  logger,
  metrics,
  poolSize = 10,
}: DataSourceOptions) {
  return new DataSource({
    type: 'postgres',
    url,
    entities,
    migrations,
    synchronize: false,
    migrationsRun: false,
    migrationsTableName: 'migrations',
    maxQueryExecutionTime: 500,
    logging: ['query', 'error', 'warn', 'migration', 'schema'],
    logger: new ObservedQueryLogger(logger.child({ component: 'sql' }), metrics),
    extra: { max: poolSize, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000 },
  });
}

/** A statement run often enough to keep its plan: prepared once per connection, under its name. */
export interface PreparedStatement {
  name: string;
  text: string;
}

/**
 * Runs a prepared statement on the data source's pool (outside any transaction). PostgreSQL plans
 * a prepared statement once per connection and, after a few runs, keeps a generic plan: for the
 * large statements of a hot path that saves the planning, about as long as the execution. Counted
 * and logged like every other statement.
 */
export async function queryPrepared<T>(
  dataSource: DataSource,
  statement: PreparedStatement,
  values: unknown[],
): Promise<T[]> {
  const pool = (dataSource.driver as unknown as { master: Pool }).master;
  try {
    const result = await pool.query({ name: statement.name, text: statement.text, values });
    dataSource.logger.logQuery(statement.text);
    return result.rows as T[];
  } catch (error) {
    dataSource.logger.logQueryError(error as Error, statement.text);
    throw error;
  }
}

/**
 * Creates the database if needed, connects, and applies pending migrations while holding an
 * advisory lock, so replicas starting together do not race each other's migrations.
 */
export async function openDatabase(dataSource: DataSource, url: string): Promise<DataSource> {
  await ensureDatabase(url);
  await dataSource.initialize();
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await dataSource.runMigrations({ transaction: 'each' });
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } catch (error) {
    await runner.release();
    await dataSource.destroy();
    throw error;
  }
  await runner.release();
  return dataSource;
}

export function postgresReadiness(dataSource: DataSource) {
  return async () => {
    await dataSource.query('SELECT 1');
  };
}
