import { generateSigningKey } from '@brokerage/auth';
import { createKafka } from '@brokerage/kafka';
import { createLogger } from '@brokerage/service';
import { defaultStoreNames } from '../../scripts/store-access';
import { ensurePlatformTopics } from '../../scripts/provision-stores';
import { startKafkaCluster, type KafkaCluster } from '../support/kafka-cluster';
import { freePort, spawnService, type ServiceProcess } from '../support/processes';
import { provisionedDatabaseUrl, testPostgresBaseUrl, testRedisUrl, uniqueSuffix } from '../support/services';
import { startTcpFronts, type TcpFront } from '../support/tcp-fronts';

/**
 * The platform as production runs it, on this machine: a three-broker Kafka cluster and two
 * replicas of every service, each a real process, behind round-robin fronts that stand in for
 * the load balancers (Kubernetes Services) between them. PostgreSQL and Redis are reached through
 * fronts too, which the chaos test cuts to make them unreachable without stopping the machine's
 * servers (which other suites use). The fronts and the verification API stand-in run in processes
 * of their own, so that the test's own work (the traders, the watchers) never slows them.
 */
export interface ChaosStack {
  cluster: KafkaCluster;
  /** Both gateways' GraphQL URLs. */
  gatewayUrls: [string, string];
  databaseUrls: Record<Database, string>;
  /** The same database URLs, straight to PostgreSQL (for the checks that run while it is cut). */
  directDatabaseUrls: Record<Database, string>;
  pricesKeyPrefix: string;
  /** Every replica's and broker's /metrics, by the job names infra/prometheus/prometheus.yml uses. */
  metricsTargets: Record<'gateway' | 'subgraphs' | 'workers' | 'kafka', string[]>;
  postgres: TcpFront;
  redis: TcpFront;
  /** The running replicas, by service: kill one, start another with `replace`. */
  replicas: Record<Service, ServiceProcess[]>;
  /** Kills replica `index` of a service with SIGKILL and starts a fresh one in its place. */
  replace(service: Service, index: number, afterMs?: number): Promise<number>;
  kill(service: Service, index: number): Promise<void>;
  respawn(service: Service, index: number): Promise<void>;
  stop(): Promise<void>;
}

type Subgraph = 'users' | 'listings' | 'stocks' | 'orders' | 'notifications';
type Database = Subgraph;
export type Service = Subgraph | 'gateway' | 'verifier' | 'price-ingestor' | 'price-fetcher' | 'notifier';
const SUBGRAPHS: Subgraph[] = ['users', 'listings', 'stocks', 'orders', 'notifications'];

const entries: Record<Service, string> = {
  users: 'subgraphs/users/src/index.ts',
  listings: 'subgraphs/listings/src/index.ts',
  stocks: 'subgraphs/stocks/src/index.ts',
  orders: 'subgraphs/orders/src/index.ts',
  notifications: 'subgraphs/notifications/src/index.ts',
  notifier: 'subgraphs/notifications/src/notifier/index.ts',
  gateway: 'gateway/src/index.ts',
  verifier: 'workers/verifier/src/index.ts',
  'price-ingestor': 'workers/price-ingestor/src/index.ts',
  'price-fetcher': 'workers/price-fetcher/src/index.ts',
};

export interface ChaosStackOptions {
  /** How fast the CSV replays (x real time). */
  replaySpeed: number;
  replayDate: string;
}

export async function startChaosStack(options: ChaosStackOptions): Promise<ChaosStack> {
  const suffix = uniqueSuffix();
  const cluster = await startKafkaCluster();
  // Each subgraph's own database, owned by its own role (npm run provision), as in production.
  const directDatabaseUrls = Object.fromEntries(
    await Promise.all(SUBGRAPHS.map(async (name) => [name, await provisionedDatabaseUrl(name)] as const)),
  ) as Record<Database, string>;

  // Every replica's port, chosen now, so that the fronts exist before the replicas start.
  const ports = {} as Record<Service, number[]>;
  for (const service of Object.keys(entries) as Service[])
    ports[service] = [await freePort(), await freePort()];
  const postgresDirect = new URL(testPostgresBaseUrl);
  const redisDirect = new URL(testRedisUrl);
  const frontsProcess = await startTcpFronts({
    postgres: [`${postgresDirect.hostname}:${postgresDirect.port || 5432}`],
    redis: [`${redisDirect.hostname}:${redisDirect.port || 6379}`],
    ...(Object.fromEntries(
      SUBGRAPHS.map((name) => [name, ports[name].map((port) => `127.0.0.1:${port}`)]),
    ) as Record<Subgraph, string[]>),
  });
  const fronts = frontsProcess.fronts;
  const viaFront = (url: string, front: TcpFront) => {
    const parsed = new URL(url);
    parsed.host = front.address;
    return parsed.toString();
  };
  const databaseUrls = Object.fromEntries(
    Object.entries(directDatabaseUrls).map(([name, url]) => [name, viaFront(url, fronts.postgres)]),
  ) as Record<Database, string>;
  const redisUrl = viaFront(testRedisUrl, fronts.redis).replace(/\/$/, '');
  const pricesKeyPrefix = `test:${suffix}:prices:`;

  // The outside verification service: answers within 0.1-1.5 s, approving 85% of people.
  const verificationApi = await spawnService('workers/verification-api/src/index.ts', {
    MIN_DELAY_MS: '100',
    MAX_DELAY_MS: '1500',
    APPROVAL_RATE: '0.85',
  });
  await verificationApi.ready(60_000);
  // Both users replicas sign access tokens with the same key, as a deployment's do.
  const signingKeys = JSON.stringify({ keys: [await generateSigningKey()] });

  const graphqlUrl = (name: Subgraph) => `http://${fronts[name].address}/graphql`;
  const usersJwks = `http://${fronts.users.address}/.well-known/jwks.json`;
  const kafka = {
    KAFKA_BROKERS: cluster.brokers,
    KAFKA_REPLICATION_FACTOR: '3',
    KAFKA_SESSION_TIMEOUT_MS: '6000',
  };
  const orderChannel = `test:${suffix}:order-status:`;

  const environments: Record<Service, Record<string, string>> = {
    users: {
      DATABASE_URL: databaseUrls.users,
      ORDERS_SUBGRAPH_URL: graphqlUrl('orders'),
      ACCESS_TOKEN_SIGNING_KEYS: signingKeys,
    },
    notifications: { DATABASE_URL: databaseUrls.notifications, WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' },
    notifier: { ...kafka, DATABASE_URL: databaseUrls.notifications, WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' },
    listings: { DATABASE_URL: databaseUrls.listings, USERS_SUBGRAPH_URL: graphqlUrl('users') },
    stocks: {
      ...kafka,
      DATABASE_URL: databaseUrls.stocks,
      REDIS_URL: redisUrl,
      PRICES_KEY_PREFIX: pricesKeyPrefix,
      STOCK_LISTINGS_TOPIC: `test.${suffix}.stock-listings`,
    },
    orders: {
      ...kafka,
      DATABASE_URL: databaseUrls.orders,
      REDIS_URL: redisUrl,
      STOCKS_SUBGRAPH_URL: graphqlUrl('stocks'),
      STOCK_LISTINGS_TOPIC: `test.${suffix}.stock-listings`,
      STATUS_CHANNEL_PREFIX: orderChannel,
      OUTBOX_POLL_MS: '200',
      // Verifications cut off by a fault are asked again soon rather than after the production 90 s.
      VERIFICATION_DEADLINE_MS: '20000',
      OVERDUE_SWEEP_MS: '2000',
    },
    gateway: {
      SUBGRAPH_USERS_URL: graphqlUrl('users'),
      SUBGRAPH_LISTINGS_URL: graphqlUrl('listings'),
      SUBGRAPH_STOCKS_URL: graphqlUrl('stocks'),
      SUBGRAPH_ORDERS_URL: graphqlUrl('orders'),
      SUBGRAPH_NOTIFICATIONS_URL: graphqlUrl('notifications'),
      JWT_JWKS_URL: usersJwks,
      REDIS_URL: redisUrl,
      ORDER_STATUS_CHANNEL_PREFIX: orderChannel,
      RATE_LIMIT_KEY_PREFIX: `test:${suffix}:ratelimit:`,
      RATE_LIMIT_MUTATIONS: '100000',
      RATE_LIMIT_READ_POINTS: '100000000',
      SUBGRAPH_TIMEOUT_MS: '15000',
    },
    verifier: {
      ...kafka,
      VERIFICATION_API_URL: `http://127.0.0.1:${verificationApi.port}`,
      STALL_LIMIT_MS: '10000',
      COMMIT_INTERVAL_MS: '200',
    },
    'price-ingestor': { ...kafka, REDIS_URL: redisUrl, PRICES_KEY_PREFIX: pricesKeyPrefix },
    'price-fetcher': {
      ...kafka,
      REDIS_URL: redisUrl,
      // Both replicas share the replay's start and the checkpoints: they fetch the same minutes.
      REDIS_KEY_PREFIX: `test:${suffix}:fetcher:`,
      PRICE_SOURCE: 'csv',
      REPLAY_SPEED: String(options.replaySpeed),
      REPLAY_DATE: options.replayDate,
      FETCH_INTERVAL_MS: '100',
    },
  };

  const replicas = {} as Record<Service, ServiceProcess[]>;
  const spawnReplica = async (service: Service, index: number) => {
    const replica = await spawnService(entries[service], environments[service], {
      port: ports[service][index],
    });
    replicas[service][index] = replica;
    await replica.ready(120_000);
  };
  // Every topic first, as a deployment's provisioning makes them: orders and the verifier each
  // wait for the other's topic, and orders for the price fetcher's, which starts last.
  await ensurePlatformTopics(
    createKafka({
      clientId: 'chaos-admin',
      brokers: cluster.brokers.split(','),
      logger: createLogger({ service: 'chaos', level: 'warn' }),
    }),
    {
      ...defaultStoreNames,
      topics: { ...defaultStoreNames.topics, stockListings: environments.stocks.STOCK_LISTINGS_TOPIC! },
    },
    { KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 3 },
  );
  // In dependency order: a subgraph's callee answers before it starts.
  const order: Service[][] = [
    ['stocks'],
    ['orders'],
    ['users', 'notifications'],
    ['listings'],
    ['gateway', 'verifier', 'price-ingestor', 'notifier'],
    ['price-fetcher'],
  ];
  for (const group of order) {
    await Promise.all(
      group.flatMap((service) => {
        replicas[service] = [];
        return [0, 1].map((index) => spawnReplica(service, index));
      }),
    );
  }

  const local = (port: number) => `127.0.0.1:${port}`;
  const kill = async (service: Service, index: number) => {
    await replicas[service][index]!.kill('SIGKILL');
  };
  return {
    cluster,
    gatewayUrls: [0, 1].map((index) => `http://127.0.0.1:${ports.gateway[index]}/graphql`) as [
      string,
      string,
    ],
    databaseUrls,
    directDatabaseUrls,
    pricesKeyPrefix,
    metricsTargets: {
      gateway: ports.gateway.map(local),
      subgraphs: (['users', 'listings', 'stocks', 'orders'] as const).flatMap((name) =>
        ports[name].map(local),
      ),
      workers: (['verifier', 'price-ingestor', 'price-fetcher'] as const).flatMap((name) =>
        ports[name].map(local),
      ),
      kafka: cluster.metricsTargets,
    },
    postgres: fronts.postgres,
    redis: fronts.redis,
    replicas,
    kill,
    respawn: (service, index) => spawnReplica(service, index),
    async replace(service, index, afterMs = 0) {
      await kill(service, index);
      await new Promise((resolve) => setTimeout(resolve, afterMs));
      const started = Date.now();
      await spawnReplica(service, index);
      return Date.now() - started;
    },
    async stop() {
      await Promise.all(
        Object.values(replicas)
          .flat()
          .map((replica) => replica.kill('SIGKILL')),
      );
      await verificationApi.kill('SIGKILL');
      await frontsProcess.close();
      await cluster.destroy();
    },
  };
}
