import {
  createKafka,
  createLogger,
  createRedis,
  DEFAULT_JWT_AUDIENCE,
  DEFAULT_JWT_ISSUER,
  dropDatabase,
  ensureTopics,
  loadConfig,
  signUserToken,
} from '@brokerage/common';
import type { Kafka } from 'kafkajs';
import { stocksConfigSchema } from '../subgraphs/stocks/src/config';
import { start as startStocks } from '../subgraphs/stocks/src/server';
import { usersConfigSchema } from '../subgraphs/users/src/config';
import { start as startUsers } from '../subgraphs/users/src/server';
import { spawnService, type ServiceProcess } from '../test/support/processes';
import { MinuteSeriesStore } from '../workers/price-ingestor/src/minute-series-store';
import { benchSecrets } from './security';
import { ensureKafka } from './support';

export const BENCH_STOCK_ID = '44891482026867833';

export interface BenchStack {
  /** The gateway's GraphQL URL (a process of its own). */
  url: string;
  gateway: ServiceProcess;
  orders: ServiceProcess;
  kafka: Kafka;
  topics: {
    VERIFICATION_REQUESTS_TOPIC: string;
    VERIFICATION_OUTCOMES_TOPIC: string;
    STATUS_CHANGES_TOPIC: string;
  };
  /** A user with a billion in credit and a listed stock priced 100. */
  userId: string;
  /** Headers that sign a request in as that user (HTTP headers, or graphql-ws connectionParams). */
  asUser: Record<string, string>;
  stop(): Promise<void>;
}

export async function graphql<T>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (!body.data || body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

/**
 * The trading side of the system for benchmarks: the gateway and the orders subgraph as processes
 * of their own (what is measured), the users and stocks subgraphs in this process, fresh databases,
 * topics and keys, and production settings (secrets of the run's own, mutation rate limit out of
 * the way: the benchmarks send thousands of orders as one user). No verifier: orders stay IN_PROGRESS unless the
 * benchmark publishes outcomes itself.
 */
export async function startBenchStack(statusChannelPrefix: string): Promise<BenchStack> {
  const logger = createLogger({ service: 'bench', level: 'silent' });
  const brokers = await ensureKafka();
  const suffix = Date.now().toString(36);
  const kafka = createKafka({ clientId: 'bench', brokers, logger });
  const topics = {
    VERIFICATION_REQUESTS_TOPIC: `bench.${suffix}.requests`,
    VERIFICATION_OUTCOMES_TOPIC: `bench.${suffix}.outcomes`,
    STATUS_CHANGES_TOPIC: `bench.${suffix}.status`,
  };
  await ensureTopics(
    kafka,
    Object.values(topics).map((topic) => ({ topic, numPartitions: 3, replicationFactor: 1 })),
  );
  const databases = {
    users: `postgres://postgres@127.0.0.1:5432/bench_users_${suffix}`,
    stocks: `postgres://postgres@127.0.0.1:5432/bench_stocks_${suffix}`,
    orders: `postgres://postgres@127.0.0.1:5432/bench_orders_${suffix}`,
  };
  const pricesKeyPrefix = `bench:${suffix}:prices:`;
  const redis = createRedis({ url: 'redis://127.0.0.1:6379', keyPrefix: pricesKeyPrefix, logger });
  await new MinuteSeriesStore(redis).apply([
    { stockId: BENCH_STOCK_ID, symbol: 'stock1', date: '20261121', time: '090000', seq: 1, price: 100 },
  ]);
  const secrets = benchSecrets();
  const base = { PORT: '0', NODE_ENV: 'production', LOG_LEVEL: 'silent', ...secrets };
  const signAs = async (userId: string, admin = false) => ({
    authorization: `Bearer ${await signUserToken(
      { secret: secrets.JWT_SECRET, issuer: DEFAULT_JWT_ISSUER, audience: DEFAULT_JWT_AUDIENCE },
      userId,
      { admin, expiresIn: '2h' },
    )}`,
  });
  const users = await startUsers(
    loadConfig(usersConfigSchema, { ...base, DATABASE_URL: databases.users }),
    logger,
  );
  const stocks = await startStocks(
    loadConfig(stocksConfigSchema, {
      ...base,
      DATABASE_URL: databases.stocks,
      PRICES_KEY_PREFIX: pricesKeyPrefix,
    }),
    logger,
  );
  const processes: ServiceProcess[] = [];
  const stop = async () => {
    await Promise.all(processes.map((service) => service.kill('SIGTERM')));
    await Promise.all([users.stop(), stocks.stop()]);
    await Promise.all(Object.values(databases).map((url) => dropDatabase(url)));
    const keys = await redis.keys(`${pricesKeyPrefix}*`);
    if (keys.length > 0) await redis.del(...keys.map((key) => key.slice(pricesKeyPrefix.length)));
    redis.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await admin.disconnect();
  };
  try {
    const orders = await spawnService('subgraphs/orders/src/index.ts', {
      NODE_ENV: 'production',
      ...secrets,
      KAFKA_BROKERS: brokers.join(','),
      DATABASE_URL: databases.orders,
      USERS_SUBGRAPH_URL: users.url,
      STOCKS_SUBGRAPH_URL: stocks.url,
      ...topics,
      CONSUMER_GROUP: `bench-orders-${suffix}`,
      STATUS_CHANNEL_PREFIX: statusChannelPrefix,
    });
    processes.push(orders);
    await orders.ready(60_000);
    const gateway = await spawnService('gateway/src/index.ts', {
      NODE_ENV: 'production',
      ...secrets,
      RATE_LIMIT_MUTATIONS: '1000000000',
      SUBGRAPH_USERS_URL: users.url,
      SUBGRAPH_STOCKS_URL: stocks.url,
      SUBGRAPH_ORDERS_URL: `http://127.0.0.1:${orders.port}/graphql`,
      SUBGRAPH_LISTINGS_URL: 'http://127.0.0.1:9/graphql',
      ORDER_STATUS_CHANNEL_PREFIX: statusChannelPrefix,
    });
    processes.push(gateway);
    await gateway.ready(60_000);
    const url = `http://127.0.0.1:${gateway.port}/graphql`;
    const asAdmin = await signAs('bench-admin', true);
    await graphql(
      url,
      `mutation { createStock(input: { id: "${BENCH_STOCK_ID}", symbol: "stock1", name: "Stock One" }) { id } }`,
      {},
      asAdmin,
    );
    const { createUser } = await graphql<{ createUser: { id: string } }>(
      url,
      `
        mutation {
          createUser(input: { name: "Bench", credit: 1000000000 }) {
            id
          }
        }
      `,
      {},
      asAdmin,
    );
    const asUser = await signAs(createUser.id);
    return { url, gateway, orders, kafka, topics, userId: createUser.id, asUser, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
