import { createDataSource, openDatabase } from '@brokerage/postgres';
import { createRedis, type Redis } from '@brokerage/redis';
import { createLogger, loadConfig } from '@brokerage/service';
import { gatewayConfigSchema } from '../../gateway/src/config';
import { start as startGateway } from '../../gateway/src/server';
import { ordersDatabase } from '../../subgraphs/orders/src/db';
import { checkLedger } from '../../subgraphs/orders/src/db/ledger-check';
import { stocksConfigSchema } from '../../subgraphs/stocks/src/config';
import { start as startStocks } from '../../subgraphs/stocks/src/server';
import { usersConfigSchema } from '../../subgraphs/users/src/config';
import { start as startUsers } from '../../subgraphs/users/src/server';
import { start as startVerificationApi } from '../../workers/verification-api/src/server';
import { MinuteSeriesStore } from '../../workers/price-ingestor/src/minute-series-store';
import { startDedicatedBroker, type DedicatedBroker } from '../support/dedicated-broker';
import { asAdmin } from '../support/auth';
import * as api from '../support/graphql';
import { eventually } from '../support/price-series';
import { freePort, spawnService, type ServiceProcess } from '../support/processes';
import { pricedAt, publishQuotes } from '../support/quotes';
import {
  createTestTopics,
  dropDatabases,
  testDatabaseUrl,
  testLogger,
  testRedisUrl,
  uniqueSuffix,
} from '../support/services';

// The order flow's promise, with real processes: kill the verifier with calls in flight, kill the
// orders subgraph after its commits but before its outbox was published, and stop and restart the
// broker. Afterwards every order has reached a final status exactly once, every reservation was
// captured or released exactly once to match it (the ledger proves every balance), and no money
// appeared or vanished.

const STOCK_ID = '44891482026867833';
const INITIAL_CREDIT = 1_000_000;
const QUOTE = { stockId: STOCK_ID, symbol: 'stock1', date: '20261121', time: '090000', seq: 1, price: 1_000 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// The back office (an admin) drives every call here: this test is about recovery, not permissions.
let admin: Record<string, string> | undefined;
async function expectData<T>(url: string, query: string, variables: Record<string, unknown> = {}) {
  admin ??= await asAdmin();
  return api.expectData<T>(url, query, variables, admin);
}
describe('order flow recovery', () => {
  const suffix = uniqueSuffix();
  const databases = {
    users: testDatabaseUrl('users'),
    stocks: testDatabaseUrl('stocks'),
    orders: testDatabaseUrl('orders'),
  };
  const pricesKeyPrefix = `test:${suffix}:prices:`;
  const logger = createLogger({ service: 't', level: 'silent' });
  const stops: Array<() => Promise<unknown>> = [];
  const processes: ServiceProcess[] = [];
  let broker: DedicatedBroker;
  let redis: Redis;
  let gatewayUrl: string;
  let ordersPort: number;
  let ordersEnv: Record<string, string>;
  let verifierEnv: Record<string, string>;
  let pricesTopic: string;

  beforeAll(async () => {
    broker = await startDedicatedBroker();
    redis = createRedis({ url: testRedisUrl, keyPrefix: pricesKeyPrefix, logger });
    await new MinuteSeriesStore(redis).apply([QUOTE]);
    const base = { PORT: '0', NODE_ENV: 'test' };
    // Users open trading accounts in the orders process, which this test starts (and kills) itself.
    ordersPort = await freePort();
    const [users, stocks] = await Promise.all([
      startUsers(
        loadConfig(usersConfigSchema, {
          ...base,
          DATABASE_URL: databases.users,
          ORDERS_SUBGRAPH_URL: `http://127.0.0.1:${ordersPort}/graphql`,
        }),
        testLogger('users'),
      ),
      startStocks(
        loadConfig(stocksConfigSchema, {
          ...base,
          DATABASE_URL: databases.stocks,
          REDIS_URL: testRedisUrl,
          PRICES_KEY_PREFIX: pricesKeyPrefix,
          KAFKA_BROKERS: broker.brokers,
          STOCK_LISTINGS_TOPIC: `test.${suffix}.stock-listings`,
        }),
        testLogger('stocks'),
      ),
    ]);
    stops.push(
      () => users.stop(),
      () => stocks.stop(),
    );
    // Answers within 0.5-2.5 s, yes seven times in ten: calls are in flight whenever something is killed.
    const api = await startVerificationApi(
      {
        port: 0,
        host: '127.0.0.1',
        decide: () => ({ delayMs: 500 + Math.random() * 2_000, verified: Math.random() < 0.7 }),
      },
      testLogger('verification-api'),
    );
    stops.unshift(() => api.stop());
    const topics = {
      VERIFICATION_REQUESTS_TOPIC: `test.${suffix}.requests`,
      VERIFICATION_OUTCOMES_TOPIC: `test.${suffix}.outcomes`,
      PRICES_TOPIC: `test.${suffix}.prices`,
    };
    pricesTopic = topics.PRICES_TOPIC;
    const statusChangesTopic = `test.${suffix}.status`;
    // Orders and the verifier each wait for the other's topic; the test starts them one at a time.
    await createTestTopics([...Object.values(topics), statusChangesTopic], broker.brokers.split(','));
    ordersEnv = {
      KAFKA_BROKERS: broker.brokers,
      DATABASE_URL: databases.orders,
      REDIS_URL: testRedisUrl,
      STOCKS_SUBGRAPH_URL: stocks.url,
      ...topics,
      PRICES_TOPIC: topics.PRICES_TOPIC,
      STATUS_CHANGES_TOPIC: statusChangesTopic,
      STOCK_LISTINGS_TOPIC: `test.${suffix}.stock-listings`,
      CONSUMER_GROUP: `orders-${suffix}`,
      LISTINGS_CONSUMER_GROUP: `orders-listings-${suffix}`,
      STATUS_CHANNEL_PREFIX: `test:${suffix}:status:`,
      OUTBOX_POLL_MS: '200',
      KAFKA_SESSION_TIMEOUT_MS: '6000',
    };
    verifierEnv = {
      KAFKA_BROKERS: broker.brokers,
      ...topics,
      CONSUMER_GROUP: `verifier-${suffix}`,
      VERIFICATION_API_URL: api.url,
      STALL_LIMIT_MS: '5000',
      COMMIT_INTERVAL_MS: '200',
      KAFKA_SESSION_TIMEOUT_MS: '6000',
    };
    const gateway = await startGateway(
      loadConfig(gatewayConfigSchema, {
        ...base,
        SUBGRAPH_USERS_URL: users.url,
        SUBGRAPH_STOCKS_URL: stocks.url,
        SUBGRAPH_ORDERS_URL: `http://127.0.0.1:${ordersPort}/graphql`,
        SUBGRAPH_LISTINGS_URL: 'http://127.0.0.1:9/graphql',
      }),
      testLogger('gateway'),
    );
    stops.unshift(() => gateway.stop());
    gatewayUrl = gateway.url;
    await expectData(
      gatewayUrl,
      `mutation { createStock(input: { id: "${STOCK_ID}", symbol: "stock1", name: "Stock One" }) { id } }`,
    );
  }, 120_000);

  afterAll(async () => {
    await Promise.all(processes.map((service) => service.kill('SIGKILL')));
    for (const stop of stops) await stop();
    broker.destroy();
    const keys = await redis.keys(`${pricesKeyPrefix}*`);
    if (keys.length > 0) await redis.del(...keys.map((key) => key.slice(pricesKeyPrefix.length)));
    redis.disconnect();
    await dropDatabases(...Object.values(databases));
  }, 120_000);

  async function started(entry: string, env: Record<string, string>, port?: number) {
    const service = await spawnService(entry, env, { port });
    processes.push(service);
    await service.ready(60_000);
    return service;
  }
  const startOrders = () => started('subgraphs/orders/src/index.ts', ordersEnv, ordersPort);
  const startVerifier = () => started('workers/verifier/src/index.ts', verifierEnv);

  async function buyMany(userId: string, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i += 1) {
      const { buyStock } = await expectData<{ buyStock: { order: { id: string } } }>(
        gatewayUrl,
        `mutation ($input: BuyStockInput!) { buyStock(input: $input) { order { id } } }`,
        { input: { userId, stockId: STOCK_ID, quantity: 1 + (i % 3) } },
      );
      ids.push(buyStock.order.id);
    }
    return ids;
  }

  it('finishes every order exactly once, settles every reservation to match, and conserves money', async () => {
    let orders = await startOrders();
    await publishQuotes(pricesTopic, [QUOTE], broker.brokers.split(','));
    await eventually(
      () => pricedAt(databases.orders, STOCK_ID),
      (price) => price === QUOTE.price,
      30_000,
    );
    let verifier = await startVerifier();
    const { createUser } = await expectData<{ createUser: { id: string } }>(
      gatewayUrl,
      `mutation { createUser(input: { name: "Survivor", credit: ${INITIAL_CREDIT} }) { id } }`,
    );
    const userId = createUser.id;

    // 1. The verifier dies with calls in flight; its successor reads the unfinished requests again.
    await buyMany(userId, 20);
    await sleep(1_000);
    await verifier.kill('SIGKILL');
    await sleep(500);
    verifier = await startVerifier();

    // 2. The orders subgraph commits orders whose outbox cannot be published (no broker), then dies.
    broker.stop();
    await buyMany(userId, 10);
    await orders.kill('SIGKILL');
    broker.start();
    orders = await startOrders();

    // 3. The broker goes away and comes back while orders are being verified.
    await buyMany(userId, 10);
    await sleep(500);
    broker.stop();
    await sleep(2_000);
    broker.start();

    const ordersDb = await openDatabase(
      createDataSource({ url: databases.orders, ...ordersDatabase, logger: testLogger('db') }),
      databases.orders,
    );
    try {
      const unfinished = async () =>
        Number(
          (
            await ordersDb.query<Array<{ count: string }>>(
              "SELECT count(*) FROM orders WHERE status = 'IN_PROGRESS'",
            )
          )[0]!.count,
        );
      expect(await eventually(unfinished, (count) => count === 0, 90_000)).toBe(0);

      const placed = await ordersDb.query<
        Array<{ id: string; status: string; quantity: number; total: string }>
      >('SELECT id, status, quantity, total FROM orders WHERE user_id = $1', [userId]);
      expect(placed).toHaveLength(40);
      // Every order moved exactly the money its status says, once, and every balance is its ledger.
      expect(await checkLedger(ordersDb)).toEqual([]);

      const completed = placed.filter(({ status }) => status === 'COMPLETED');
      const spent = completed.reduce((sum, { total }) => sum + Number(total), 0);
      const [account] = await ordersDb.query<Array<{ cash: string; reserved: string }>>(
        'SELECT cash, reserved FROM accounts WHERE user_id = $1',
        [userId],
      );
      expect(Number(account!.cash) + spent).toBe(INITIAL_CREDIT);
      expect(Number(account!.reserved)).toBe(0);
      const holdings = await ordersDb.query<Array<{ quantity: string }>>(
        'SELECT quantity FROM holdings WHERE user_id = $1',
        [userId],
      );
      expect(Number(holdings[0]?.quantity ?? 0)).toBe(
        completed.reduce((sum, { quantity }) => sum + quantity, 0),
      );
      expect(completed.length).toBeGreaterThan(0);
      expect(placed.some(({ status }) => status === 'FAILED')).toBe(true);
    } finally {
      await ordersDb.destroy();
      await Promise.all([orders.kill('SIGTERM'), verifier.kill('SIGTERM')]);
    }
  }, 300_000);
});
