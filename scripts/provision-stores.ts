import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  createKafka,
  ensureTopics,
  kafkaSecurityConfig,
  topicConfig,
  kafkaTopicCreationConfig,
  type KafkaTopicCreationConfig,
  type KafkaSecurityConfig,
} from '@brokerage/kafka';
import { databaseName } from '@brokerage/postgres';
import { createLogger, env, loadConfig, type Logger } from '@brokerage/service';
import { STOCK_LISTINGS_TOPIC_SETTINGS } from '@brokerage/stocks-contract';
import {
  defaultStoreNames,
  storeAccess,
  type ServiceName,
  type ServiceStoreAccess,
  type StoreNames,
} from './store-access';
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  ResourcePatternTypes,
  type Kafka,
  type Admin,
  type AclEntry,
} from 'kafkajs';
import { Redis } from 'ioredis';
import { Client, escapeIdentifier, escapeLiteral } from 'pg';
import { z } from 'zod';

// `npm run provision`: gives every service its own, least-privileged identity in each store, as
// scripts/store-access.ts describes it; safe to run again (each step makes the store match).
//
//   PostgreSQL  a LOGIN role per service (not superuser, no CREATEDB/CREATEROLE) owning its
//               database and everything in it; CONNECT revoked from PUBLIC, so no other role
//               (bar superusers) can even connect to it.
//   Redis       an ACL user per service limited to its key patterns (read-only where it only
//               reads), its pub/sub channels and the commands it uses.
//   Kafka       a SCRAM user per service and ACLs: WRITE on the topics it owns, READ on the topics
//               it consumes and on its consumer group, nothing else. Needs the cluster's authorizer
//               on and the provisioner's KAFKA_SASL_* naming a super user.

const PG_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
const execFileAsync = promisify(execFile);

/**
 * Makes the URL's user a LOGIN role (with the URL's password, if any) that owns the URL's database
 * and all of its tables, sequences and views; nobody else but superusers may connect to it.
 */
export async function provisionPostgres(
  adminUrl: string,
  serviceUrl: string,
  logger?: Logger,
): Promise<void> {
  const parsed = new URL(serviceUrl);
  const role = decodeURIComponent(parsed.username);
  const password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
  const database = databaseName(serviceUrl);
  if (!PG_IDENTIFIER.test(role)) throw new Error(`unsupported role name "${role}" in a database URL`);
  const admin = new Client({ connectionString: withDatabase(adminUrl, 'postgres') });
  await admin.connect();
  // Provisioners running side by side (test suites) take turns per role: two ALTER ROLE at once fail.
  await admin.query('SELECT pg_advisory_lock(hashtext($1))', [`provision:${role}`]);
  try {
    const { rows } = await admin.query<{ rolsuper: boolean }>(
      'SELECT rolsuper FROM pg_roles WHERE rolname = $1',
      [role],
    );
    if (rows[0]?.rolsuper) {
      logger?.warn({ role, database }, 'the service connects as a superuser: nothing to limit');
      return;
    }
    const r = escapeIdentifier(role);
    const d = escapeIdentifier(database);
    if (rows.length === 0) await ignoreIfExists(admin.query(`CREATE ROLE ${r} LOGIN`));
    await admin.query(
      `ALTER ROLE ${r} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD ${
        password === undefined ? 'NULL' : escapeLiteral(password)
      }`,
    );
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (rowCount === 0) await ignoreIfExists(admin.query(`CREATE DATABASE ${d} OWNER ${r}`));
    await admin.query(`ALTER DATABASE ${d} OWNER TO ${r}`);
    await admin.query(`REVOKE ALL ON DATABASE ${d} FROM PUBLIC`);
    await admin.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${d} TO ${r}`);
  } finally {
    await admin.end();
  }
  await takeOwnership(adminUrl, database, role);
  logger?.info({ role, database }, 'postgres role owns its database');
}

/** Hands what an earlier owner (e.g. `postgres`) made in the database to the role, so its migrations can alter it. */
async function takeOwnership(adminUrl: string, database: string, role: string): Promise<void> {
  const client = new Client({ connectionString: withDatabase(adminUrl, database) });
  await client.connect();
  try {
    const r = escapeIdentifier(role);
    await client.query(`ALTER SCHEMA public OWNER TO ${r}`);
    const owned = `SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind = ANY($1) AND pg_get_userbyid(c.relowner) <> $2`;
    // Tables first: a table takes its own sequences along, which cannot change owner alone.
    const tables = await client.query<{ schema: string; name: string }>(owned, [
      ['r', 'p', 'v', 'm', 'f'],
      role,
    ]);
    for (const { schema, name } of tables.rows)
      await client.query(`ALTER TABLE ${escapeIdentifier(schema)}.${escapeIdentifier(name)} OWNER TO ${r}`);
    const sequences = await client.query<{ schema: string; name: string }>(owned, [['S'], role]);
    for (const { schema, name } of sequences.rows)
      await client.query(
        `ALTER SEQUENCE ${escapeIdentifier(schema)}.${escapeIdentifier(name)} OWNER TO ${r}`,
      );
  } finally {
    await client.end();
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** Another provisioner (a test suite beside this one) made the same role or database first. */
async function ignoreIfExists(statement: Promise<unknown>): Promise<void> {
  try {
    await statement;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== '42710' && code !== '42P04' && code !== '23505') throw error;
  }
}

/** The ACL rules of a service's Redis user: `reset` first, so running again leaves exactly these. */
export function redisAclRules(access: NonNullable<ServiceStoreAccess['redis']>, password?: string): string[] {
  const readKeys = access.readKeys ?? [];
  const writeKeys = access.writeKeys ?? [];
  const channels = access.channels ?? [];
  return [
    'reset',
    'on',
    password === undefined ? 'nopass' : `>${password}`,
    ...writeKeys.map((pattern) => `~${pattern}`),
    ...readKeys.map((pattern) => `%R~${pattern}`),
    ...channels.map((pattern) => `&${pattern}`),
    // Connection commands (AUTH, HELLO, PING, CLIENT SETNAME...) and what the access needs...
    '+@connection',
    ...(readKeys.length > 0 || writeKeys.length > 0 ? ['+@read'] : []),
    ...(writeKeys.length > 0 ? ['+@write'] : []),
    ...(channels.length > 0 ? ['+@pubsub'] : []),
    ...(access.scripts
      ? ['+eval', '+evalsha', '+eval_ro', '+evalsha_ro', '+script|load', '+script|exists']
      : []),
    // ...never the dangerous ones (FLUSHALL, KEYS, CONFIG, CLIENT KILL, DEBUG...), but INFO, which
    // ioredis reads on connect to know the server is ready.
    '-@dangerous',
    '+info',
  ];
}

/** Makes (or resets) the URL's user as the service's access says. */
export async function provisionRedisUser(
  admin: Redis,
  serviceUrl: string,
  access: NonNullable<ServiceStoreAccess['redis']>,
  logger?: Logger,
): Promise<void> {
  const parsed = new URL(serviceUrl);
  const user = decodeURIComponent(parsed.username);
  if (!user || user === 'default') {
    logger?.warn(
      { url: redacted(serviceUrl) },
      'the service connects as the default Redis user: nothing to limit',
    );
    return;
  }
  const password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
  await admin.call('ACL', 'SETUSER', user, ...redisAclRules(access, password));
  logger?.info({ user }, 'redis ACL user limited to its keys and channels');
}

function redacted(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/** The ACLs of a service's Kafka principal (`User:<name>`). */
export function kafkaAcls(user: string, access: NonNullable<ServiceStoreAccess['kafka']>): AclEntry[] {
  const entry = (
    resourceType: AclResourceTypes,
    resourceName: string,
    operation: AclOperationTypes,
    resourcePatternType = ResourcePatternTypes.LITERAL,
  ): AclEntry => ({
    resourceType,
    resourceName,
    resourcePatternType,
    principal: `User:${user}`,
    host: '*',
    operation,
    permissionType: AclPermissionTypes.ALLOW,
  });
  return [
    // A service may (re)create the topics it owns; topics it only reads exist before it starts.
    ...(access.produce ?? []).flatMap((topic) => [
      entry(AclResourceTypes.TOPIC, topic, AclOperationTypes.WRITE),
      entry(AclResourceTypes.TOPIC, topic, AclOperationTypes.CREATE),
    ]),
    ...(access.consume ?? []).map((topic) => entry(AclResourceTypes.TOPIC, topic, AclOperationTypes.READ)),
    ...(access.groups ?? []).map((group) =>
      entry(
        AclResourceTypes.GROUP,
        group,
        AclOperationTypes.READ,
        access.groupIsPrefix ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
      ),
    ),
  ];
}

const aclKey = (acl: AclEntry) =>
  [
    acl.resourceType,
    acl.resourceName,
    acl.resourcePatternType,
    acl.principal,
    acl.host,
    acl.operation,
    acl.permissionType,
  ].join('|');

/** Gives the principal exactly these ACLs: creates the missing, deletes any others it has. */
export async function provisionKafkaAcls(
  admin: Admin,
  user: string,
  access: NonNullable<ServiceStoreAccess['kafka']>,
  logger?: Logger,
): Promise<void> {
  const wanted = kafkaAcls(user, access);
  const { resources } = await admin.describeAcls({
    resourceType: AclResourceTypes.ANY,
    resourcePatternType: ResourcePatternTypes.ANY,
    principal: `User:${user}`,
    operation: AclOperationTypes.ANY,
    permissionType: AclPermissionTypes.ANY,
  });
  const existing = resources.flatMap(({ acls, ...resource }) => acls.map((acl) => ({ ...resource, ...acl })));
  const wantedKeys = new Set(wanted.map(aclKey));
  const existingKeys = new Set(existing.map(aclKey));
  const stale = existing.filter((acl) => !wantedKeys.has(aclKey(acl)));
  const missing = wanted.filter((acl) => !existingKeys.has(aclKey(acl)));
  if (stale.length > 0) await admin.deleteAcls({ filters: stale });
  if (missing.length > 0) await admin.createAcls({ acl: missing });
  logger?.info({ user, created: missing.length, deleted: stale.length }, 'kafka ACLs in place');
}

/**
 * Creates or updates SCRAM users with the broker's own tool (kafkajs has no AlterUserScramCredentials):
 * `scripts/kafka.sh scram-user`, run against the brokers with the provisioner's own credentials.
 */
export async function provisionScramUsers(
  brokers: string[],
  adminSecurity: Partial<KafkaSecurityConfig>,
  users: Array<{ name: string; password: string }>,
): Promise<void> {
  const mechanism = adminSecurity.KAFKA_SASL_MECHANISM;
  if (mechanism !== 'scram-sha-256' && mechanism !== 'scram-sha-512')
    throw new Error(
      'SCRAM users are made over a SCRAM connection: set KAFKA_SASL_MECHANISM=scram-sha-256 or -512',
    );
  const dir = mkdtempSync(path.join(os.tmpdir(), 'provision-kafka-'));
  try {
    const clientConfig = path.join(dir, 'admin.properties');
    writeFileSync(
      clientConfig,
      [
        'security.protocol=SASL_PLAINTEXT',
        `sasl.mechanism=${mechanism.toUpperCase()}`,
        `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=${jaasString(
          adminSecurity.KAFKA_SASL_USERNAME ?? '',
        )} password=${jaasString(adminSecurity.KAFKA_SASL_PASSWORD ?? '')};`,
      ].join('\n'),
      { mode: 0o600 },
    );
    for (const { name, password } of users) {
      const credential = path.join(dir, `${name}.properties`);
      if (/[,\s]/.test(password))
        throw new Error(`the Kafka password of ${name} may not hold commas or spaces`);
      writeFileSync(credential, `${mechanism.toUpperCase()}=iterations=8192,password=${password}\n`, {
        mode: 0o600,
      });
      await execFileAsync('bash', [path.resolve(__dirname, 'kafka.sh'), 'scram-user', name, credential], {
        env: { ...process.env, KAFKA_ADMIN_BOOTSTRAP: brokers.join(','), KAFKA_ADMIN_CONFIG: clientConfig },
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function jaasString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The environment `npm run provision` reads; every setting has the development default. */
/**
 * Creates every topic of the platform, as an administrator does before the services start (each
 * service otherwise creates only its own, and waits for the others'): with the partitions,
 * replication and settings its owner would give it.
 */
export async function ensurePlatformTopics(
  kafka: Kafka,
  { topics }: StoreNames,
  { KAFKA_TOPIC_PARTITIONS, KAFKA_REPLICATION_FACTOR }: KafkaTopicCreationConfig,
): Promise<void> {
  await ensureTopics(
    kafka,
    Object.values(topics).map((topic) => {
      const created = topicConfig(topic, KAFKA_TOPIC_PARTITIONS, KAFKA_REPLICATION_FACTOR);
      if (topic !== topics.stockListings) return created;
      return {
        ...created,
        configEntries: [...(created.configEntries ?? []), ...STOCK_LISTINGS_TOPIC_SETTINGS],
      };
    }),
  );
}

export const provisionConfigSchema = z.object({
  POSTGRES_ADMIN_URL: env.postgresUrl('postgres', 'postgres'),
  USERS_DATABASE_URL: env.postgresUrl('users'),
  LISTINGS_DATABASE_URL: env.postgresUrl('listings'),
  STOCKS_DATABASE_URL: env.postgresUrl('stocks'),
  ORDERS_DATABASE_URL: env.postgresUrl('orders'),
  /** The notifications domain's database: its subgraph and its notifier both connect as this role. */
  NOTIFICATIONS_DATABASE_URL: env.postgresUrl('notifications'),
  REDIS_ADMIN_URL: env.redisUrl(),
  /** Each service's REDIS_URL; an ACL user is made for those that name one. */
  GATEWAY_REDIS_URL: env.redisUrl(),
  STOCKS_REDIS_URL: env.redisUrl(),
  ORDERS_REDIS_URL: env.redisUrl(),
  PRICE_FETCHER_REDIS_URL: env.redisUrl(),
  PRICE_INGESTOR_REDIS_URL: env.redisUrl(),
  /** The provisioner's own Kafka connection: a super user of a cluster with its authorizer on. */
  KAFKA_BROKERS: env.kafkaBrokers(),
  ...kafkaTopicCreationConfig,
  ...kafkaSecurityConfig,
  /** Each Kafka client's SCRAM user; its password is set only when given. */
  ORDERS_KAFKA_SASL_USERNAME: z.string().default('orders'),
  ORDERS_KAFKA_SASL_PASSWORD: z.string().optional(),
  PRICE_FETCHER_KAFKA_SASL_USERNAME: z.string().default('price-fetcher'),
  PRICE_FETCHER_KAFKA_SASL_PASSWORD: z.string().optional(),
  PRICE_INGESTOR_KAFKA_SASL_USERNAME: z.string().default('price-ingestor'),
  PRICE_INGESTOR_KAFKA_SASL_PASSWORD: z.string().optional(),
  VERIFIER_KAFKA_SASL_USERNAME: z.string().default('verifier'),
  VERIFIER_KAFKA_SASL_PASSWORD: z.string().optional(),
  NOTIFIER_KAFKA_SASL_USERNAME: z.string().default('notifier'),
  NOTIFIER_KAFKA_SASL_PASSWORD: z.string().optional(),
  STOCKS_KAFKA_SASL_USERNAME: z.string().default('stocks'),
  STOCKS_KAFKA_SASL_PASSWORD: z.string().optional(),
  /** Names other than the defaults, as the services are configured with them. */
  RATE_LIMIT_KEY_PREFIX: z.string().default(defaultStoreNames.redis.rateLimitPrefix),
  STATUS_CHANNEL_PREFIX: z.string().default(defaultStoreNames.redis.orderStatusChannelPrefix),
  PRICES_KEY_PREFIX: z.string().default(defaultStoreNames.redis.pricesKeyPrefix),
  PRICE_FETCHER_KEY_PREFIX: z.string().default(defaultStoreNames.redis.priceFetcherPrefix),
  PRICE_POINTS_CHANNEL_PREFIX: z.string().default(defaultStoreNames.redis.pricePointsChannelPrefix),
  PRICES_TOPIC: z.string().min(1).default(defaultStoreNames.topics.prices),
  STOCK_LISTINGS_TOPIC: z.string().min(1).default(defaultStoreNames.topics.stockListings),
  VERIFICATION_REQUESTS_TOPIC: z.string().min(1).default(defaultStoreNames.topics.verificationRequests),
  VERIFICATION_OUTCOMES_TOPIC: z.string().min(1).default(defaultStoreNames.topics.verificationOutcomes),
  STATUS_CHANGES_TOPIC: z.string().min(1).default(defaultStoreNames.topics.statusChanges),
  /** Which stores to provision (comma-separated); Kafka only when asked, on a cluster with SASL. */
  PROVISION_STORES: z
    .string()
    .default('postgres,redis')
    .transform((value) => new Set(value.split(',').map((store) => store.trim())))
    .pipe(z.set(z.enum(['postgres', 'redis', 'kafka']))),
});
export type ProvisionConfig = z.infer<typeof provisionConfigSchema>;

/** Everything `npm run provision` does, for the given settings. */
export async function provisionStores(config: ProvisionConfig, logger: Logger): Promise<void> {
  const names: StoreNames = {
    databases: {
      users: databaseName(config.USERS_DATABASE_URL),
      listings: databaseName(config.LISTINGS_DATABASE_URL),
      stocks: databaseName(config.STOCKS_DATABASE_URL),
      orders: databaseName(config.ORDERS_DATABASE_URL),
      notifications: databaseName(config.NOTIFICATIONS_DATABASE_URL),
    },
    redis: {
      rateLimitPrefix: config.RATE_LIMIT_KEY_PREFIX,
      orderStatusChannelPrefix: config.STATUS_CHANNEL_PREFIX,
      pricesKeyPrefix: config.PRICES_KEY_PREFIX,
      priceFetcherPrefix: config.PRICE_FETCHER_KEY_PREFIX,
      pricePointsChannelPrefix: config.PRICE_POINTS_CHANNEL_PREFIX,
    },
    topics: {
      prices: config.PRICES_TOPIC,
      stockListings: config.STOCK_LISTINGS_TOPIC,
      verificationRequests: config.VERIFICATION_REQUESTS_TOPIC,
      verificationOutcomes: config.VERIFICATION_OUTCOMES_TOPIC,
      statusChanges: config.STATUS_CHANGES_TOPIC,
    },
    groups: defaultStoreNames.groups,
  };
  const access = storeAccess(names);

  if (config.PROVISION_STORES.has('postgres')) {
    for (const url of [
      config.USERS_DATABASE_URL,
      config.LISTINGS_DATABASE_URL,
      config.STOCKS_DATABASE_URL,
      config.ORDERS_DATABASE_URL,
      config.NOTIFICATIONS_DATABASE_URL,
    ])
      await provisionPostgres(config.POSTGRES_ADMIN_URL, url, logger);
  }

  if (config.PROVISION_STORES.has('redis')) {
    const redisUrls: Partial<Record<ServiceName, string>> = {
      gateway: config.GATEWAY_REDIS_URL,
      stocks: config.STOCKS_REDIS_URL,
      orders: config.ORDERS_REDIS_URL,
      'price-fetcher': config.PRICE_FETCHER_REDIS_URL,
      'price-ingestor': config.PRICE_INGESTOR_REDIS_URL,
    };
    const admin = new Redis(config.REDIS_ADMIN_URL, { maxRetriesPerRequest: 1 });
    try {
      for (const [service, url] of Object.entries(redisUrls) as Array<[ServiceName, string]>) {
        const redis = access[service].redis;
        if (redis) await provisionRedisUser(admin, url, redis, logger.child({ forService: service }));
      }
    } finally {
      admin.disconnect();
    }
  }

  if (config.PROVISION_STORES.has('kafka')) {
    const users: Array<{ service: ServiceName; name: string; password?: string }> = [
      {
        service: 'orders',
        name: config.ORDERS_KAFKA_SASL_USERNAME,
        password: config.ORDERS_KAFKA_SASL_PASSWORD,
      },
      {
        service: 'price-fetcher',
        name: config.PRICE_FETCHER_KAFKA_SASL_USERNAME,
        password: config.PRICE_FETCHER_KAFKA_SASL_PASSWORD,
      },
      {
        service: 'price-ingestor',
        name: config.PRICE_INGESTOR_KAFKA_SASL_USERNAME,
        password: config.PRICE_INGESTOR_KAFKA_SASL_PASSWORD,
      },
      {
        service: 'verifier',
        name: config.VERIFIER_KAFKA_SASL_USERNAME,
        password: config.VERIFIER_KAFKA_SASL_PASSWORD,
      },
      {
        service: 'notifier',
        name: config.NOTIFIER_KAFKA_SASL_USERNAME,
        password: config.NOTIFIER_KAFKA_SASL_PASSWORD,
      },
      {
        service: 'stocks',
        name: config.STOCKS_KAFKA_SASL_USERNAME,
        password: config.STOCKS_KAFKA_SASL_PASSWORD,
      },
    ];
    const withPassword = users.flatMap(({ name, password }) =>
      password === undefined ? [] : [{ name, password }],
    );
    if (withPassword.length > 0) await provisionScramUsers(config.KAFKA_BROKERS, config, withPassword);
    const kafka = createKafka({
      clientId: 'provision',
      brokers: config.KAFKA_BROKERS,
      security: config,
      logger,
    });
    // Every topic exists before its readers start: they may read but not create it.
    await ensurePlatformTopics(kafka, names, config);
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (const { service, name } of users) {
        const kafkaAccess = access[service].kafka;
        if (kafkaAccess)
          await provisionKafkaAcls(admin, name, kafkaAccess, logger.child({ forService: service }));
      }
    } finally {
      await admin.disconnect();
    }
  }
}

if (require.main === module) {
  const logger = createLogger({ service: 'provision' });
  provisionStores(loadConfig(provisionConfigSchema), logger).then(
    () => logger.info('stores provisioned'),
    (error: unknown) => {
      logger.error({ err: error }, 'provisioning failed');
      process.exit(1);
    },
  );
}
