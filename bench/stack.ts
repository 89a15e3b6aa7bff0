import {
  CALLER_TOKEN_HEADER,
  InternalTokens,
  DEFAULT_JWT_AUDIENCE,
  DEFAULT_JWT_ISSUER,
  signUserToken,
} from '@brokerage/auth';
import { createKafka, ensureTopics } from '@brokerage/kafka';
import { dropDatabase } from '@brokerage/postgres';
import { createRedis } from '@brokerage/redis';
import { createLogger } from '@brokerage/service';
import type { Kafka } from 'kafkajs';
import { distinctFreePorts, type ServiceProcess } from '../test/support/processes';
import { pricedAt, publishQuotes } from '../test/support/quotes';
import { MinuteSeriesStore } from '../workers/price-ingestor/src/minute-series-store';
import { benchSecrets } from './security';
import { ensureKafka, spawnBenchService } from './support';

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
    PRICES_TOPIC: string;
  };
  /** The orders database, for checks after a run (the ledger). */
  ordersDatabaseUrl: string;
  /** The orders subgraph's own URL, and the headers the gateway would send it for the bench user. */
  ordersUrl: string;
  asUserToOrders: Record<string, string>;
  /** A user with a billion in credit and a listed stock priced 100. */
  userId: string;
  /** Headers that sign a request in as that user (HTTP headers, or graphql-ws connectionParams). */
  asUser: Record<string, string>;
  /** Headers that sign a request in as the given user (an admin when asked). */
  signAs(userId: string, admin?: boolean): Promise<Record<string, string>>;
  /** The run's secrets, which every service of the stack holds. */
  secrets: ReturnType<typeof benchSecrets>;
  /** Each subgraph's own GraphQL URL (listings only when started). */
  subgraphUrls: Record<string, string>;
  /** What the gateway was started with: to start another one over the same subgraphs. */
  gatewayEnv: Record<string, string>;
  /** The stocks subgraph's Redis key prefix for price series. */
  pricesKeyPrefix: string;
  /** Where the gateway hears new price points (priceChanged), as the ingestor announces them. */
  pricePointsChannelPrefix: string;
  /** Each subgraph's process id, for CPU accounting. */
  subgraphPids: Record<string, number>;
  /** What every database of this stack has in its name (PostgreSQL backends show it). */
  databaseTag: string;
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
 * The trading side of the system for benchmarks: the users, stocks and orders subgraphs and the
 * gateway, each a process of its own as deployed (the bench process holds only the clients), with
 * fresh databases, topics and keys, and production settings (secrets of the run's own, mutation
 * rate limit out of the way: the benchmarks send thousands of orders as one user). Without
 * `verification`, no verifier runs: orders stay IN_PROGRESS unless the benchmark publishes
 * outcomes itself. With it, the verifier and the verification API stand-in run too, the stand-in
 * answering after a delay drawn from [minDelayMs, maxDelayMs].
 */
export async function startBenchStack(
  statusChannelPrefix: string,
  options: {
    verification?: { minDelayMs: number; maxDelayMs: number };
    /** Starts the listings subgraph too (on a database of its own). */
    listings?: boolean;
  } = {},
): Promise<BenchStack> {
  const logger = createLogger({ service: 'bench', level: 'silent' });
  const brokers = await ensureKafka();
  const suffix = Date.now().toString(36);
  const kafka = createKafka({ clientId: 'bench', brokers, logger });
  const topics = {
    VERIFICATION_REQUESTS_TOPIC: `bench.${suffix}.requests`,
    VERIFICATION_OUTCOMES_TOPIC: `bench.${suffix}.outcomes`,
    STATUS_CHANGES_TOPIC: `bench.${suffix}.status`,
    PRICES_TOPIC: `bench.${suffix}.prices`,
  };
  // The stocks service announces listings on a topic of the run's own.
  const stockListingsTopic = `bench.${suffix}.stock-listings`;
  await ensureTopics(
    kafka,
    [...Object.values(topics), stockListingsTopic].map((topic) => ({
      topic,
      numPartitions: 3,
      replicationFactor: 1,
    })),
  );
  const pricePointsChannelPrefix = `bench:${suffix}:price-points:`;
  const databases = {
    users: `postgres://postgres@127.0.0.1:5432/bench_users_${suffix}`,
    stocks: `postgres://postgres@127.0.0.1:5432/bench_stocks_${suffix}`,
    orders: `postgres://postgres@127.0.0.1:5432/bench_orders_${suffix}`,
    ...(options.listings ? { listings: `postgres://postgres@127.0.0.1:5432/bench_listings_${suffix}` } : {}),
  };
  const pricesKeyPrefix = `bench:${suffix}:prices:`;
  const redis = createRedis({ url: 'redis://127.0.0.1:6379', keyPrefix: pricesKeyPrefix, logger });
  const quote = {
    stockId: BENCH_STOCK_ID,
    symbol: 'stock1',
    date: '20261121',
    time: '090000',
    seq: 1,
    price: 100,
  };
  await new MinuteSeriesStore(redis).apply([quote]);
  await publishQuotes(topics.PRICES_TOPIC, [quote], brokers);
  const secrets = benchSecrets();
  /** What every service of the stack runs with: production mode and the run's own secrets. */
  const production = { NODE_ENV: 'production', ...secrets };
  const signAs = async (userId: string, admin = false) => ({
    authorization: `Bearer ${await signUserToken(
      { secret: secrets.JWT_SECRET, issuer: DEFAULT_JWT_ISSUER, audience: DEFAULT_JWT_AUDIENCE },
      userId,
      { admin, expiresIn: '2h' },
    )}`,
  });
  const processes: ServiceProcess[] = [];
  const stop = async () => {
    await Promise.all(processes.map((service) => service.kill('SIGTERM')));
    await Promise.all(Object.values(databases).map((url) => dropDatabase(url)));
    const keys = await redis.keys(`${pricesKeyPrefix}*`);
    if (keys.length > 0) await redis.del(...keys.map((key) => key.slice(pricesKeyPrefix.length)));
    redis.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin
      .deleteTopics({ topics: [...Object.values(topics), stockListingsTopic] })
      .catch(() => undefined);
    await admin.disconnect();
  };
  try {
    // Every service in a process of its own, as deployed: a client sharing an event loop with a
    // service would wait for it, and the timings would be the bench's own. They start side by
    // side, on ports chosen first: a service calls another only to serve a request, never to start.
    const port = await distinctFreePorts([
      'stocks',
      'orders',
      'users',
      'listings',
      'verificationApi',
      'verifier',
      'gateway',
    ] as const);
    const subgraphUrl = (at: number) => `http://127.0.0.1:${at}/graphql`;
    const started = async (entry: string, env: Record<string, string>, at: number) => {
      const service = await spawnBenchService(entry, env, { port: at });
      processes.push(service);
      return service;
    };
    const stocks = await started(
      'subgraphs/stocks/src/index.ts',
      {
        ...production,
        DATABASE_URL: databases.stocks,
        PRICES_KEY_PREFIX: pricesKeyPrefix,
        KAFKA_BROKERS: brokers.join(','),
        STOCK_LISTINGS_TOPIC: stockListingsTopic,
      },
      port.stocks,
    );
    const orders = await started(
      'subgraphs/orders/src/index.ts',
      {
        ...production,
        KAFKA_BROKERS: brokers.join(','),
        DATABASE_URL: databases.orders,
        STOCKS_SUBGRAPH_URL: subgraphUrl(port.stocks),
        ...topics,
        STOCK_LISTINGS_TOPIC: stockListingsTopic,
        CONSUMER_GROUP: `bench-orders-${suffix}`,
        LISTINGS_CONSUMER_GROUP: `bench-orders-listings-${suffix}`,
        STATUS_CHANNEL_PREFIX: statusChannelPrefix,
      },
      port.orders,
    );
    const users = await started(
      'subgraphs/users/src/index.ts',
      { ...production, DATABASE_URL: databases.users, ORDERS_SUBGRAPH_URL: subgraphUrl(port.orders) },
      port.users,
    );
    const subgraphUrls: Record<string, string> = {
      users: subgraphUrl(port.users),
      stocks: subgraphUrl(port.stocks),
      orders: subgraphUrl(port.orders),
    };
    const subgraphPids: Record<string, number> = {
      users: users.child.pid!,
      stocks: stocks.child.pid!,
      orders: orders.child.pid!,
    };
    if (databases.listings) {
      const listings = await started(
        'subgraphs/listings/src/index.ts',
        { ...production, DATABASE_URL: databases.listings, USERS_SUBGRAPH_URL: subgraphUrl(port.users) },
        port.listings,
      );
      subgraphUrls.listings = subgraphUrl(port.listings);
      subgraphPids.listings = listings.child.pid!;
    }
    if (options.verification) {
      await started(
        'workers/verification-api/src/index.ts',
        {
          ...production,
          MIN_DELAY_MS: String(options.verification.minDelayMs),
          MAX_DELAY_MS: String(options.verification.maxDelayMs),
        },
        port.verificationApi,
      );
      await started(
        'workers/verifier/src/index.ts',
        {
          ...production,
          KAFKA_BROKERS: brokers.join(','),
          VERIFICATION_REQUESTS_TOPIC: topics.VERIFICATION_REQUESTS_TOPIC,
          VERIFICATION_OUTCOMES_TOPIC: topics.VERIFICATION_OUTCOMES_TOPIC,
          CONSUMER_GROUP: `bench-verifier-${suffix}`,
          VERIFICATION_API_URL: `http://127.0.0.1:${port.verificationApi}`,
        },
        port.verifier,
      );
    }
    const gatewayEnv = {
      ...production,
      RATE_LIMIT_MUTATIONS: '1000000000',
      RATE_LIMIT_READ_POINTS: '1000000000',
      // The run's own counters: user ids start at 1 in every run, and in `npm run dev` too.
      RATE_LIMIT_KEY_PREFIX: `bench:${Date.now().toString(36)}:ratelimit:`,
      SUBGRAPH_USERS_URL: subgraphUrls.users!,
      SUBGRAPH_STOCKS_URL: subgraphUrls.stocks!,
      SUBGRAPH_ORDERS_URL: subgraphUrls.orders!,
      SUBGRAPH_LISTINGS_URL: subgraphUrls.listings ?? 'http://127.0.0.1:9/graphql',
      ORDER_STATUS_CHANNEL_PREFIX: statusChannelPrefix,
      PRICE_POINTS_CHANNEL_PREFIX: pricePointsChannelPrefix,
    };
    const gateway = await started('gateway/src/index.ts', gatewayEnv, port.gateway);
    await Promise.all(processes.map((service) => service.ready(60_000)));
    await waitForPrice(databases.orders, quote.price);
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
    const asUserToOrders = {
      [CALLER_TOKEN_HEADER]: await new InternalTokens(secrets.INTERNAL_AUTH_SECRET, 'gateway', 7_200).sign({
        kind: 'user',
        userId: createUser.id,
        admin: false,
      }),
    };
    return {
      url,
      gateway,
      orders,
      kafka,
      topics,
      ordersDatabaseUrl: databases.orders,
      ordersUrl: subgraphUrl(port.orders),
      asUserToOrders,
      userId: createUser.id,
      asUser,
      signAs,
      secrets,
      subgraphUrls,
      gatewayEnv,
      pricesKeyPrefix,
      pricePointsChannelPrefix,
      subgraphPids,
      databaseTag: `_${suffix}`,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Waits until the orders service prices the bench stock at `price`. */
async function waitForPrice(ordersDatabaseUrl: string, price: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await pricedAt(ordersDatabaseUrl, BENCH_STOCK_ID).catch(() => undefined)) !== price) {
    if (Date.now() > deadline) throw new Error("the orders service never saw the bench stock's price");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
