import { createKafka } from '@brokerage/kafka';
import { createDataSource, openDatabase } from '@brokerage/postgres';
import { createRedis } from '@brokerage/redis';
import { createLogger } from '@brokerage/service';
import { OrderTopics } from '@brokerage/orders-contract';
import { PriceFetcherTopics } from '@brokerage/price-fetcher-contract';
import { VerifierTopics } from '@brokerage/verifier-contract';
import type { Admin } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { ordersDatabase } from '../../subgraphs/orders/src/db';
import { checkLedger } from '../../subgraphs/orders/src/db/ledger-check';
import { asAdmin, asUser } from '../support/auth';
import { expectData, graphql } from '../support/graphql';
import { eventually, expectedSeriesFromCsv } from '../support/price-series';
import { dropDatabases, testLogger, testRedisUrl } from '../support/services';
import { prometheusInstalled, startPrometheus, type PrometheusServer } from '../support/prometheus';
import { startChaosStack, type ChaosStack } from './chaos-stack';
import { OrderLoad, type Trader } from './order-load';

// High availability, proven: the platform on a three-broker cluster with two replicas of every
// service takes buys, sells and cancels through both gateways while brokers crash, a broker loses
// its disk, one replica of each busy service is killed, and PostgreSQL and Redis become
// unreachable for a while. Afterwards nothing is lost or doubled: every accepted order has
// exactly one final status, the ledger balances, every watcher saw its order's final status, and
// the price series equal the source's minute by minute.

const REPLAY_DATE = '20261121';
// The CSV's hour of trading in three minutes: the replay runs through every fault.
const REPLAY_SPEED = 20;
const STOCKS = [
  { id: '44891482026867833', symbol: 'stock1' },
  { id: '35425587644337450', symbol: 'stock2' },
  { id: '65883838195688438', symbol: 'stock3' },
];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface FaultFigure {
  fault: string;
  longestWaitMs: number;
  healMs: number;
  /** Alerts that fired from the fault's start until it healed, as alertname(instance). */
  alerts: string[];
}

describe('the platform under faults', () => {
  let stack: ChaosStack;
  let load: OrderLoad;
  let orders: DataSource;
  let kafkaAdmin: Admin | undefined;
  let prometheus: PrometheusServer | undefined;
  let alertWatch: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    // An operator's view of the faults: the alert rules must fire for them and resolve after.
    if (!prometheusInstalled()) {
      throw new Error('the chaos test needs Prometheus (Debian: apt-get install prometheus; .ci/run does)');
    }
    stack = await startChaosStack({ replaySpeed: REPLAY_SPEED, replayDate: REPLAY_DATE });
    prometheus = await startPrometheus(stack.metricsTargets);
  }, 300_000);

  afterAll(async () => {
    clearInterval(alertWatch);
    await load?.close();
    await prometheus?.stop();
    await kafkaAdmin?.disconnect();
    await orders?.destroy();
    await stack?.stop();
    if (stack) await dropDatabases(...Object.values(stack.directDatabaseUrls));
  }, 120_000);

  /** The back office's setup calls, sent again while a replica that just started warms up. */
  async function setUp<T>(
    query: string,
    variables: Record<string, unknown>,
    headers: Record<string, string>,
  ) {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const answer = await graphql<T>(stack.gatewayUrls[0], query, variables, headers);
      const retry = answer.errors?.some(({ extensions }) => extensions?.code === 'DEPENDENCY_UNAVAILABLE');
      if (!retry || Date.now() > deadline) {
        if (answer.errors?.length || !answer.data)
          throw new Error(`setup failed: ${JSON.stringify(answer.errors)}`);
        return answer.data;
      }
      await sleep(1_000);
    }
  }

  it('loses and doubles nothing through broker crashes, a lost server, killed replicas and store outages', async () => {
    const admin = await asAdmin();
    const [gatewayA] = stack.gatewayUrls;
    for (const stock of STOCKS) {
      await setUp(
        'mutation ($input: CreateStockInput!) { createStock(input: $input) { id } }',
        { input: { ...stock, name: stock.symbol } },
        admin,
      );
    }
    const traders: Trader[] = [];
    for (let i = 0; i < 12; i++) {
      const { createUser } = await setUp<{ createUser: { id: string } }>(
        'mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }',
        { input: { name: `trader ${i}`, credit: 50_000_000 } },
        admin,
      );
      traders.push({ userId: createUser.id, headers: await asUser(createUser.id) });
    }
    orders = await openDatabase(
      createDataSource({ url: stack.directDatabaseUrls.orders, ...ordersDatabase, logger: testLogger('db') }),
      stack.directDatabaseUrls.orders,
    );
    // Orders can be priced once the replay's first trades reached the orders subgraph.
    const countOf = async (sql: string) => (await orders.query<Array<{ n: number }>>(sql))[0]?.n ?? 0;
    await eventually(
      () => countOf('SELECT count(*)::int AS n FROM stock_prices'),
      (priced) => priced === STOCKS.length,
      60_000,
    );

    load = new OrderLoad({
      gatewayUrls: stack.gatewayUrls,
      traders,
      stockIds: STOCKS.map(({ id }) => id),
      rate: 8,
      watchEvery: 3,
    });
    load.start();
    await sleep(8_000);

    const figures: FaultFigure[] = [];
    // Every firing alert seen, polled each second: which ones a fault raised, and when they ended.
    const fired: Array<{ at: number; alert: string }> = [];
    let firingNow: string[] = [];
    alertWatch = setInterval(() => {
      void prometheus!
        .alerts()
        .then((alerts) => {
          firingNow = alerts
            .filter(({ state }) => state === 'firing')
            .map(({ name, labels }) => (labels.instance ? `${name}(${labels.instance})` : name));
          for (const alert of firingNow) fired.push({ at: Date.now(), alert });
        })
        .catch(() => undefined);
    }, 1_000);
    const kafka = createKafka({
      clientId: 'chaos',
      brokers: stack.cluster.brokers.split(','),
      logger: createLogger({ service: 'chaos', level: 'silent' }),
    });
    const admin_ = kafka.admin();
    kafkaAdmin = admin_;
    await admin_.connect();
    const orderTopics = [...Object.values(OrderTopics), VerifierTopics.verificationOutcomes];
    /** Resolves once every partition of the platform's topics is on all three brokers again. */
    const fullyReplicated = async () => {
      const started = Date.now();
      await eventually(
        async () => {
          try {
            const { topics } = await admin_.fetchTopicMetadata({
              topics: [...orderTopics, PriceFetcherTopics.priceQuotes],
            });
            return topics.every(({ partitions }) => partitions.every(({ isr }) => isr.length === 3));
          } catch {
            return false;
          }
        },
        Boolean,
        120_000,
      );
      return Date.now() - started;
    };
    const leaderOf = async (topic: string) => {
      const { topics } = await admin_.fetchTopicMetadata({ topics: [topic] });
      return topics[0]!.partitions.find(({ partitionId }) => partitionId === 0)!.leader;
    };
    const fault = async (name: string, act: () => Promise<number>) => {
      const from = Date.now();
      const healMs = await act();
      await sleep(3_000);
      const alerts = [...new Set(fired.filter(({ at }) => at >= from).map(({ alert }) => alert))];
      figures.push({ fault: name, longestWaitMs: load.longestWait(from, Date.now()), healMs, alerts });
    };
    const alertsOf = (prefix: string) => figures.find(({ fault: name }) => name.startsWith(prefix))!.alerts;

    // 1. The broker that leads the order topics crashes, and comes back later.
    await fault('kill -9 the order topics leader, restart it after 15 s', async () => {
      const leader = await leaderOf(OrderTopics.statusChanges);
      await stack.cluster.kill(leader);
      await sleep(15_000);
      await stack.cluster.startNode(leader);
      return fullyReplicated();
    });

    // 2. A server is lost with its disk: the broker starts empty and copies everything back.
    await fault('kill -9 a broker, delete its data, start it empty', async () => {
      const leader = await leaderOf(OrderTopics.verificationRequests);
      await stack.cluster.wipe(leader);
      await sleep(10_000);
      await stack.cluster.startNode(leader);
      return fullyReplicated();
    });

    // 3. One replica of each busy service dies; the other carries on, a new one replaces it.
    await fault('kill -9 a replica of orders, verifier, ingestor, fetcher and a gateway', async () => {
      const services = ['orders', 'verifier', 'price-ingestor', 'price-fetcher', 'gateway'] as const;
      await Promise.all(services.map((service) => stack.kill(service, 0)));
      await sleep(10_000);
      const started = Date.now();
      await Promise.all(services.map((service) => stack.respawn(service, 0)));
      return Date.now() - started;
    });

    // 4. PostgreSQL, then Redis, cannot be reached for a few seconds.
    for (const [name, proxy] of [
      ['PostgreSQL', stack.postgres],
      ['Redis', stack.redis],
    ] as const) {
      await fault(`${name} unreachable for 6 s`, async () => {
        await proxy.cut();
        await sleep(6_000);
        await proxy.restore();
        const started = Date.now();
        // Healed when a read through the gateway that needs the store answers again.
        await eventually(
          async () => {
            try {
              await expectData(gatewayA, '{ stocks { id lastPrice } }', {}, admin);
              return true;
            } catch {
              return false;
            }
          },
          Boolean,
          60_000,
        );
        return Date.now() - started;
      });
    }

    await load.drain();

    // Every accepted order reaches one final status (verifications cut off by a fault are asked
    // again after the deadline, then failed with the money returned).
    const open = await eventually(
      () => countOf("SELECT count(*)::int AS n FROM orders WHERE status = 'IN_PROGRESS'"),
      (count) => count === 0,
      120_000,
    );
    await load.watchersDone(60_000);

    const rows: Array<{ id: string; status: string; client_order_id: string }> = await orders.query(
      'SELECT id::text, status, client_order_id FROM orders WHERE client_order_id IS NOT NULL',
    );
    const byClientOrderId = new Map<string, number>();
    for (const row of rows)
      byClientOrderId.set(row.client_order_id, (byClientOrderId.get(row.client_order_id) ?? 0) + 1);
    const doubled = [...byClientOrderId.values()].filter((count) => count > 1).length;
    const statusOf = new Map(rows.map((row) => [row.id, row.status]));
    const lost = [...load.accepted.keys()].filter((id) => !statusOf.has(id)).length;
    const movedTwice: Array<{ n: number }> = await orders.query(
      'SELECT count(*)::int AS n FROM cash_movements WHERE order_id IS NOT NULL GROUP BY order_id, kind HAVING count(*) > 1',
    );
    const discrepancies = await checkLedger(orders);
    const watchersWrong = load.watches.filter((watch) => watch.final !== statusOf.get(watch.orderId));

    // The price series equal the source's, minute by minute.
    const redis = createRedis({
      url: testRedisUrl,
      keyPrefix: '',
      logger: createLogger({ service: 't', level: 'silent' }),
    });
    const expected = expectedSeriesFromCsv();
    let seriesWrong = 0;
    for (const [symbol, series] of expected) {
      const actual = await eventually(
        async () => JSON.parse((await redis.get(`${stack.pricesKeyPrefix}${symbol}`)) ?? 'null') as unknown,
        (value) => JSON.stringify(value) === JSON.stringify(series),
        240_000,
      );
      if (JSON.stringify(actual) !== JSON.stringify(series)) seriesWrong++;
    }
    const priceKeys = await redis.keys(`${stack.pricesKeyPrefix}*`);
    redis.disconnect();

    const count = (status: string) => rows.filter((row) => row.status === status).length;
    // Why orders failed: the verification said no (or stalled), or the answer never came and the
    // overdue sweep gave up after asking again.
    const failures: Array<{ side: string; asked: number; n: number }> = await orders.query(
      "SELECT side, verification_attempts + 1 AS asked, count(*)::int AS n FROM orders WHERE status = 'FAILED' GROUP BY 1, 2 ORDER BY 3 DESC",
    );
    const verifierOutcomes = await Promise.all(
      stack.metricsTargets.workers.slice(0, 2).map((target) =>
        fetch(`http://${target}/metrics`).then(
          (response) => response.text(),
          () => '',
        ),
      ),
    );
    const report = [
      'chaos: figures',
      `  orders placed ${rows.length} (accepted ${load.accepted.size}), completed ${count('COMPLETED')}, failed ${count('FAILED')}, cancelled ${count('CANCELLED')}, denied ${count('DENIED')}`,
      ...failures.map(
        ({ side, asked, n }) => `    failed ${side}: ${n}, verification asked ${asked} time(s)`,
      ),
      ...verifierOutcomes.flatMap((text) =>
        text
          .split('\n')
          .filter((line) => line.startsWith('verifier_outcomes_total'))
          .map((line) => `    ${line}`),
      ),
      `  still open ${open}, lost ${lost}, doubled ${doubled}, money moved twice ${movedTwice.length}, ledger discrepancies ${discrepancies.length}`,
      `  watchers ${load.watches.length}, resubscribed ${load.watches.filter((watch) => watch.resubscribes > 0).length}, wrong final ${watchersWrong.length}`,
      `  requests ${load.attempts.length}: retried after a lost answer ${load.attempts.filter(({ outcome }) => outcome === 'lost').length}, DEPENDENCY_UNAVAILABLE ${load.attempts.filter(({ outcome }) => outcome === 'retriable').length}, internal errors ${load.internalErrors.length}`,
      ...figures.map(
        ({ fault: name, longestWaitMs, healMs, alerts }) =>
          `  ${name}: longest request wait ${longestWaitMs} ms, healed in ${healMs} ms; alerts fired: ${alerts.join(', ') || 'none'}`,
      ),
      `  price series: ${expected.size - seriesWrong}/${expected.size} equal to the source`,
    ].join('\n');
    process.stdout.write(`${report}\n`);

    // The operator was told: a broker's loss and a dead replica fired their alerts, and once all
    // was healed none of those alerts was firing any more.
    const stillFiring = await eventually(
      async () => {
        const alerts = await prometheus!.alerts();
        return alerts
          .filter(({ state, name }) => state === 'firing' && /^(KafkaBrokerDown|ServiceDown)$/.test(name))
          .map(({ name, labels }) => `${name}(${labels.instance})`);
      },
      (alerts) => alerts.length === 0,
      60_000,
    );
    process.stdout.write(`chaos: alerts still firing at the end: ${stillFiring.join(', ') || 'none'}\n`);
    expect(
      alertsOf('kill -9 the order topics leader').some((alert) => alert.startsWith('KafkaBrokerDown')),
    ).toBe(true);
    expect(alertsOf('kill -9 a broker, delete').some((alert) => alert.startsWith('KafkaBrokerDown'))).toBe(
      true,
    );
    expect(
      alertsOf('kill -9 a replica').filter((alert) => alert.startsWith('ServiceDown')).length,
    ).toBeGreaterThanOrEqual(5);
    expect(stillFiring).toEqual([]);

    expect(load.internalErrors).toEqual([]);
    expect(open).toBe(0);
    expect(lost).toBe(0);
    expect(doubled).toBe(0);
    expect(movedTwice).toEqual([]);
    expect(discrepancies).toEqual([]);
    expect(watchersWrong.map(({ orderId, statuses }) => ({ orderId, statuses }))).toEqual([]);
    expect(seriesWrong).toBe(0);
    expect(priceKeys.length).toBeGreaterThanOrEqual(expected.size);
    expect(rows.length).toBeGreaterThan(100);
  }, 900_000);
});
