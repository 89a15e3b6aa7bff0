import { createKafka } from '@brokerage/kafka';
import { createRedis } from '@brokerage/redis';
import { createLogger, loadConfig } from '@brokerage/service';
import { gatewayConfigSchema } from '../../gateway/src/config';
import { start as startGateway } from '../../gateway/src/server';
import { listingsConfigSchema } from '../../subgraphs/listings/src/config';
import { notificationsConfigSchema } from '../../subgraphs/notifications/src/config';
import { start as startNotifications } from '../../subgraphs/notifications/src/server';
import { start as startListings } from '../../subgraphs/listings/src/server';
import { ordersConfigSchema } from '../../subgraphs/orders/src/config';
import { start as startOrders } from '../../subgraphs/orders/src/server';
import { stocksConfigSchema } from '../../subgraphs/stocks/src/config';
import { start as startStocks } from '../../subgraphs/stocks/src/server';
import { usersConfigSchema } from '../../subgraphs/users/src/config';
import { start as startUsers } from '../../subgraphs/users/src/server';
import { start as startVerificationApi, type Decide } from '../../workers/verification-api/src/server';
import { createApp as createVerifier } from '../../workers/verifier/src/app';
import { verifierConfigSchema } from '../../workers/verifier/src/config';
import { MinuteSeriesStore } from '../../workers/price-ingestor/src/minute-series-store';
import { asAdmin } from './auth';
import { eventually } from './price-series';
import { pricedAt, publishQuotes } from './quotes';
import { expectData } from './graphql';
import {
  createTestTopics,
  deletePrefixedKeys,
  dropDatabases,
  kafkaBrokers,
  provisionedDatabaseUrl,
  testLogger,
  testRedisUrl,
  uniqueSuffix,
} from './services';

export interface PlatformStack {
  gatewayUrl: string;
  usersUrl: string;
  listingsUrl: string;
  stocksUrl: string;
  ordersUrl: string;
  notificationsUrl: string;
  databaseUrls: { users: string; listings: string; stocks: string; orders: string; notifications: string };
  /**
   * The environment of a notifier (`subgraphs/notifications/src/notifier`) for this stack: its
   * database, status-changes topic, a consumer group of its own and the webhook allow-list.
   */
  notifierEnv: Record<string, string>;
  /** Where this stack's price series live in Redis. */
  pricesKeyPrefix: string;
  /** Prefix of this stack's order status channels in Redis. */
  statusChannelPrefix: string;
  /** Prefix of this stack's price point channels in Redis (where an ingestor would announce). */
  pricePointsChannelPrefix: string;
  /** This stack's Kafka topics. */
  topics: {
    verificationRequests: string;
    verificationOutcomes: string;
    statusChanges: string;
    prices: string;
    stockListings: string;
  };
  /** The environment the stack's gateway was started with: start replicas from it. */
  gatewayEnv: Record<string, string>;
  /**
   * Lists a stock as the back office does (an admin, through the gateway) and, given a price,
   * records one trade at it: in the stack's price series, as the ingestor would, and on the
   * prices topic, waiting until the orders service prices orders at it.
   */
  listStock(stock: { id: string; symbol: string; name?: string; price?: number }): Promise<void>;
  /** `/metrics` of a service, from its GraphQL URL. */
  metricsUrl(graphqlUrl: string): string;
  stop(): Promise<void>;
}

export interface PlatformStackOptions {
  /** Also run the verifier against a verification API stand-in that answers as `decide` says. */
  verification?: { decide: Decide; stallLimitMs: number };
  /** Gateway settings on top of the stack's own (e.g. a lower rate limit). */
  gatewayEnv?: Record<string, string>;
  /** Users service settings on top of the stack's own (e.g. its access token signing keys). */
  usersEnv?: Record<string, string>;
  /** Orders service settings on top of the stack's own (e.g. a short verification deadline). */
  ordersEnv?: Record<string, string>;
  /** Webhooks may reach these private hosts (WEBHOOK_ALLOWED_HOSTS); 127.0.0.1 unless given. */
  webhookAllowedHosts?: string;
}

/**
 * Every subgraph and the gateway (and, if asked, the verifier with the verification API
 * stand-in), started for real in this process on free ports, against the real PostgreSQL, Redis
 * and Kafka: each subgraph with a database of its own (dropped on stop), and the stack's own
 * Redis prefixes, Kafka topics and consumer groups.
 */
export async function startPlatformStack(options: PlatformStackOptions = {}): Promise<PlatformStack> {
  const suffix = uniqueSuffix();
  // Each subgraph connects as its own role, which owns its database and cannot reach the others'.
  const [usersDb, listingsDb, stocksDb, ordersDb, notificationsDb] = await Promise.all(
    (['users', 'listings', 'stocks', 'orders', 'notifications'] as const).map((owner) =>
      provisionedDatabaseUrl(owner),
    ),
  );
  const databaseUrls = {
    users: usersDb!,
    listings: listingsDb!,
    stocks: stocksDb!,
    orders: ordersDb!,
    notifications: notificationsDb!,
  };
  const pricesKeyPrefix = `test:${suffix}:prices:`;
  const statusChannelPrefix = `test:${suffix}:order-status:`;
  const topics = {
    verificationRequests: `test.${suffix}.verification-requests`,
    verificationOutcomes: `test.${suffix}.verification-outcomes`,
    statusChanges: `test.${suffix}.status-changes`,
    prices: `test.${suffix}.prices`,
    stockListings: `test.${suffix}.stock-listings`,
  };
  const pricePointsChannelPrefix = `test:${suffix}:price-points:`;
  // Orders and the verifier each wait for the other's topic, and no price fetcher runs here.
  await createTestTopics(Object.values(topics));
  const kafka = { KAFKA_BROKERS: kafkaBrokers().join(',') };
  const base = { PORT: '0', NODE_ENV: 'test' };
  const stops: Array<() => Promise<unknown>> = [];

  // Orders prices from the stocks list; users open accounts in orders; listings reads users.
  const stocks = await startStocks(
    loadConfig(stocksConfigSchema, {
      ...base,
      DATABASE_URL: databaseUrls.stocks,
      REDIS_URL: testRedisUrl,
      PRICES_KEY_PREFIX: pricesKeyPrefix,
      ...kafka,
      STOCK_LISTINGS_TOPIC: topics.stockListings,
      OUTBOX_POLL_MS: '200',
    }),
    testLogger('stocks'),
  );
  const orders = await startOrders(
    loadConfig(ordersConfigSchema, {
      ...base,
      ...kafka,
      DATABASE_URL: databaseUrls.orders,
      REDIS_URL: testRedisUrl,
      STOCKS_SUBGRAPH_URL: stocks.url,
      VERIFICATION_REQUESTS_TOPIC: topics.verificationRequests,
      VERIFICATION_OUTCOMES_TOPIC: topics.verificationOutcomes,
      STATUS_CHANGES_TOPIC: topics.statusChanges,
      PRICES_TOPIC: topics.prices,
      STOCK_LISTINGS_TOPIC: topics.stockListings,
      CONSUMER_GROUP: `orders-${suffix}`,
      LISTINGS_CONSUMER_GROUP: `orders-listings-${suffix}`,
      STATUS_CHANNEL_PREFIX: statusChannelPrefix,
      OUTBOX_POLL_MS: '200',
      ...options.ordersEnv,
    }),
    testLogger('orders'),
  );
  const users = await startUsers(
    loadConfig(usersConfigSchema, {
      ...base,
      DATABASE_URL: databaseUrls.users,
      ORDERS_SUBGRAPH_URL: orders.url,
      ...options.usersEnv,
    }),
    testLogger('users'),
  );
  const listings = await startListings(
    loadConfig(listingsConfigSchema, {
      ...base,
      DATABASE_URL: databaseUrls.listings,
      USERS_SUBGRAPH_URL: users.url,
    }),
    testLogger('listings'),
  );
  const webhookAllowedHosts = options.webhookAllowedHosts ?? '127.0.0.1';
  const notifications = await startNotifications(
    loadConfig(notificationsConfigSchema, {
      ...base,
      DATABASE_URL: databaseUrls.notifications,
      WEBHOOK_ALLOWED_HOSTS: webhookAllowedHosts,
    }),
    testLogger('notifications'),
  );
  const notifierEnv: Record<string, string> = {
    ...kafka,
    DATABASE_URL: databaseUrls.notifications,
    STATUS_CHANGES_TOPIC: topics.statusChanges,
    CONSUMER_GROUP: `notifier-${suffix}`,
    WEBHOOK_ALLOWED_HOSTS: webhookAllowedHosts,
  };
  const gatewayEnv: Record<string, string> = {
    ...base,
    SUBGRAPH_USERS_URL: users.url,
    SUBGRAPH_LISTINGS_URL: listings.url,
    SUBGRAPH_STOCKS_URL: stocks.url,
    SUBGRAPH_ORDERS_URL: orders.url,
    SUBGRAPH_NOTIFICATIONS_URL: notifications.url,
    REDIS_URL: testRedisUrl,
    ORDER_STATUS_CHANNEL_PREFIX: statusChannelPrefix,
    PRICE_POINTS_CHANNEL_PREFIX: pricePointsChannelPrefix,
    // Access tokens of the users service's sign-in, verified as an outside provider's would be.
    JWT_JWKS_URL: users.url.replace(/\/graphql$/, '/.well-known/jwks.json'),
    // Each stack's users start at id 1: their rate limits must not be counted together.
    RATE_LIMIT_KEY_PREFIX: `test.${suffix}.ratelimit:`,
    // Suites read far more than a caller's hourly budget; the budget's own tests set theirs.
    RATE_LIMIT_READ_POINTS: '100000000',
    ...options.gatewayEnv,
  };
  const gateway = await startGateway(loadConfig(gatewayConfigSchema, gatewayEnv), testLogger('gateway'));

  if (options.verification) {
    const api = await startVerificationApi(
      { port: 0, host: '127.0.0.1', decide: options.verification.decide },
      testLogger('verification-api'),
    );
    const verifier = createVerifier(
      loadConfig(verifierConfigSchema, {
        ...base,
        ...kafka,
        VERIFICATION_REQUESTS_TOPIC: topics.verificationRequests,
        VERIFICATION_OUTCOMES_TOPIC: topics.verificationOutcomes,
        CONSUMER_GROUP: `verifier-${suffix}`,
        VERIFICATION_API_URL: api.url,
        STALL_LIMIT_MS: String(options.verification.stallLimitMs),
        COMMIT_INTERVAL_MS: '200',
      }),
      testLogger('verifier'),
    );
    await verifier.start();
    stops.push(
      () => verifier.stop(),
      () => api.stop(),
    );
  }

  // The stack's price series: written by listStock (and by tests that replay a day), deleted on stop.
  const prices = createRedis({
    url: testRedisUrl,
    keyPrefix: pricesKeyPrefix,
    logger: createLogger({ service: 'test', level: 'silent' }),
  });

  return {
    gatewayUrl: gateway.url,
    usersUrl: users.url,
    listingsUrl: listings.url,
    stocksUrl: stocks.url,
    ordersUrl: orders.url,
    notificationsUrl: notifications.url,
    notifierEnv,
    databaseUrls,
    pricesKeyPrefix,
    statusChannelPrefix,
    pricePointsChannelPrefix,
    topics,
    gatewayEnv,
    async listStock({ id, symbol, name = symbol, price }) {
      await expectData(
        gateway.url,
        `mutation ($input: CreateStockInput!) { createStock(input: $input) { id } }`,
        { input: { id, symbol, name } },
        await asAdmin(),
      );
      if (price !== undefined) {
        const quote = {
          stockId: id,
          symbol: symbol.toLowerCase(),
          date: '20261121',
          time: '090000',
          seq: 1,
          price,
        };
        await new MinuteSeriesStore(prices).apply([quote]);
        await publishQuotes(topics.prices, [quote]);
        await eventually(
          () => pricedAt(databaseUrls.orders, id),
          (priced) => priced === price,
          15_000,
        );
      }
    },
    metricsUrl: (graphqlUrl) => graphqlUrl.replace(/\/graphql$/, '/metrics'),
    stop: async () => {
      for (const stop of stops) await stop();
      await gateway.stop();
      await Promise.all([listings.stop(), orders.stop()]);
      await Promise.all([users.stop(), stocks.stop(), notifications.stop()]);
      await dropDatabases(...Object.values(databaseUrls));
      await deletePrefixedKeys(prices, pricesKeyPrefix);
      prices.disconnect();
      // The stack's topics go too, so that repeated runs do not pile them up in a long-lived broker.
      const admin = createKafka({
        clientId: 'test',
        brokers: kafkaBrokers(),
        logger: testLogger('kafka'),
      }).admin();
      await admin.connect();
      await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
      await admin.disconnect();
    },
  };
}
