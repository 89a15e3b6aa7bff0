import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { prettyFactory } from 'pino-pretty';
import { createKafka } from '@brokerage/kafka';
import { createLogger, loadConfig } from '@brokerage/service';
import { defaultStoreNames } from './store-access';
import { ensurePlatformTopics, provisionConfigSchema, provisionStores } from './provision-stores';
import { DEMO_USERS, seed } from './seed';
import { imageNodeFlags } from './dockerfile';
import { startTcpProxy, type TcpProxy } from './tcp-front';
import { generateSigningKey } from '@brokerage/auth';

// `npm run dev`: the whole system on this machine. Starts Kafka (unless KAFKA_BROKERS names one),
// every service as a local process in dependency order (each applies its own migrations), loads
// the demo data, and stops everything on Ctrl-C or SIGTERM.
//
// `npm run dev -- --cluster`: the production shape on one machine. A three-broker Kafka cluster
// (replication factor 3, min.insync.replicas 2) and two replicas of every service: gateways on
// 4000 and 4010, each subgraph's replicas behind a round-robin front on its usual port (as a
// Kubernetes Service is), workers twice (the second replica's ops port is the first's + 1000).

const root = path.resolve(__dirname, '..');
const colors = [36, 35, 33, 32, 34, 31, 96, 95, 93];

interface ServiceSpec {
  name: string;
  entry: string;
  port: number;
  env?: Record<string, string>;
}

const DEV_WEBHOOK_HOSTS = 'localhost,127.0.0.1,::1';

const services: ServiceSpec[] = [
  { name: 'users', entry: 'subgraphs/users/src/index.ts', port: 4001 },
  { name: 'listings', entry: 'subgraphs/listings/src/index.ts', port: 4002 },
  { name: 'stocks', entry: 'subgraphs/stocks/src/index.ts', port: 4003 },
  { name: 'orders', entry: 'subgraphs/orders/src/index.ts', port: 4004 },
  // Webhooks may reach this machine (a receiver you run locally); outside it only public addresses.
  {
    name: 'webhooks',
    entry: 'subgraphs/notifications/src/index.ts',
    port: 4005,
    env: { WEBHOOK_ALLOWED_HOSTS: DEV_WEBHOOK_HOSTS },
  },
  // A read budget someone exploring the API does not run out of (production: 5,000 points an hour).
  {
    name: 'gateway',
    entry: 'gateway/src/index.ts',
    port: 4000,
    env: {
      RATE_LIMIT_READ_POINTS: '1000000',
      // The users service's sign-in keys (generated at its start in development), beside the
      // development secret of `npm run token`.
      JWT_JWKS_URL: 'http://127.0.0.1:4001/.well-known/jwks.json',
    },
  },
  { name: 'ingestor', entry: 'workers/price-ingestor/src/index.ts', port: 4102 },
  // The external verification API's stand-in: answers in 1-100 s, like the real one.
  { name: 'verify-api', entry: 'workers/verification-api/src/index.ts', port: 4200 },
  { name: 'verifier', entry: 'workers/verifier/src/index.ts', port: 4103 },
  {
    name: 'notifier',
    entry: 'subgraphs/notifications/src/notifier/index.ts',
    port: 4104,
    env: { WEBHOOK_ALLOWED_HOSTS: DEV_WEBHOOK_HOSTS },
  },
  // Replays data/price_data.csv at 60x: an hour of trading per minute, one replayed minute a second.
  // Fetches the stocks the stocks service lists (a stock created now is fetched from the next cycle).
  {
    name: 'fetcher',
    entry: 'workers/price-fetcher/src/index.ts',
    port: 4101,
    env: { PRICE_SOURCE: 'csv', STOCKS_SUBGRAPH_URL: 'http://127.0.0.1:4003/graphql' },
  },
];

const cluster = process.argv.includes('--cluster');
const SUBGRAPH_NAMES = new Set(['users', 'listings', 'stocks', 'orders', 'webhooks']);
// Where the cluster's brokers listen (scripts/kafka.sh cluster).
const CLUSTER_BROKERS = '127.0.0.1:19092,127.0.0.1:19094,127.0.0.1:19096';

/**
 * The processes to run: each service once, or in cluster mode twice. A subgraph's two replicas
 * listen on its port + 1000 and + 2000, behind a front on its own port; the second gateway listens
 * on 4010; a worker's second replica on its port + 1000.
 */
function replicasOf(spec: ServiceSpec): ServiceSpec[] {
  if (!cluster || spec.name === 'verify-api') return [spec];
  if (SUBGRAPH_NAMES.has(spec.name)) {
    return [1, 2].map((n) => ({ ...spec, name: `${spec.name}-${n}`, port: spec.port + 1000 * n }));
  }
  const second = spec.name === 'gateway' ? 4010 : spec.port + 1000;
  return [spec, { ...spec, name: `${spec.name}-2`, port: second }];
}

const children: Array<{ spec: ServiceSpec; child: ChildProcess }> = [];
const fronts: TcpProxy[] = [];
let startedKafka = false;
let stopping = false;
/** What every process gets in cluster mode: the cluster's brokers, topics on three replicas. */
let clusterEnv: Record<string, string> = {};

function say(message: string) {
  process.stdout.write(`\x1b[1m[dev]\x1b[0m ${message}\n`);
}

function pipeLogs(name: string, color: number, stream: NodeJS.ReadableStream) {
  const label = `\x1b[${color}m${name.padEnd(9)}\x1b[0m|`;
  const pretty = prettyFactory({
    colorize: true,
    singleLine: true,
    ignore: 'service,pid,hostname',
    translateTime: 'HH:MM:ss.l',
  });
  readline.createInterface({ input: stream }).on('line', (line) => {
    let text = line;
    if (line.startsWith('{')) {
      try {
        text = pretty(JSON.parse(line) as Record<string, unknown>).trimEnd();
      } catch {
        // Not JSON after all: print it as it is.
      }
    }
    process.stdout.write(`${label} ${text}\n`);
  });
}

async function waitUntilReady(spec: ServiceSpec, child: ChildProcess, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`${spec.name} exited with code ${child.exitCode} during start`);
    try {
      const response = await fetch(`http://127.0.0.1:${spec.port}/ready`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`${spec.name} was not ready within ${timeoutMs / 1000}s`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

function startService(spec: ServiceSpec, index: number): ChildProcess {
  const child = spawn(
    process.execPath,
    [...imageNodeFlags(), '--import', 'tsx', path.join(root, spec.entry)],
    {
      cwd: root,
      env: { ...process.env, ...clusterEnv, PORT: String(spec.port), ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const color = colors[index % colors.length]!;
  pipeLogs(spec.name, color, child.stdout);
  pipeLogs(spec.name, color, child.stderr);
  child.on('exit', (code, signal) => {
    if (!stopping) {
      say(`${spec.name} exited (${signal ?? `code ${code}`}); stopping everything`);
      void shutdown(1);
    }
  });
  children.push({ spec, child });
  return child;
}

async function shutdown(exitCode: number) {
  if (stopping) return;
  stopping = true;
  say('stopping services...');
  // Reverse order of start: workers, then the gateway, then the subgraphs.
  for (const { spec, child } of [...children].reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
    say(`${spec.name} stopped`);
  }
  await Promise.all(fronts.map((front) => front.close()));
  if (startedKafka) {
    const args = cluster ? ['cluster', 'stop'] : ['stop'];
    spawnSync('bash', [path.join(root, 'scripts/kafka.sh'), ...args], { stdio: 'inherit' });
  }
  process.exit(exitCode);
}

async function main() {
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  if (!process.env.KAFKA_BROKERS) {
    const kafka = (...args: string[]) =>
      spawnSync('bash', [path.join(root, 'scripts/kafka.sh'), ...(cluster ? ['cluster'] : []), ...args], {
        stdio: args[0] === 'status' ? 'ignore' : 'inherit',
      });
    const wasRunning = kafka('status');
    if (kafka('start').status !== 0) throw new Error('Kafka did not start; see the lines above');
    startedKafka = wasRunning.status !== 0;
  }
  if (cluster) {
    clusterEnv = {
      ...(process.env.KAFKA_BROKERS ? {} : { KAFKA_BROKERS: CLUSTER_BROKERS }),
      KAFKA_REPLICATION_FACTOR: '3',
      // Both users replicas sign access tokens with the same key.
      ACCESS_TOKEN_SIGNING_KEYS: JSON.stringify({ keys: [await generateSigningKey()] }),
    };
    say('cluster mode: three Kafka brokers, two replicas of every service');
  }

  // Each subgraph connects as its own role (the config defaults): make the roles and their databases.
  await provisionStores(
    loadConfig(provisionConfigSchema, { PROVISION_STORES: 'postgres' }),
    createLogger({ service: 'provision', level: 'warn' }),
  );
  say('PostgreSQL: each service has its own role and database');
  // Each service creates the topics it owns and waits for the others' (orders and the verifier
  // read each other's); started one after another, they would wait on services not started yet.
  const topicSettings = loadConfig(provisionConfigSchema, { ...process.env, ...clusterEnv });
  await ensurePlatformTopics(
    createKafka({
      clientId: 'dev',
      brokers: topicSettings.KAFKA_BROKERS,
      security: topicSettings,
      logger: createLogger({ service: 'dev', level: 'warn' }),
    }),
    defaultStoreNames,
    topicSettings,
  );
  say('Kafka: every topic exists');

  for (const [index, spec] of services.entries()) {
    const replicas = replicasOf(spec);
    if (cluster && SUBGRAPH_NAMES.has(spec.name)) {
      fronts.push(
        await startTcpProxy(
          replicas.map(({ port }) => `127.0.0.1:${port}`),
          spec.port,
        ),
      );
    }
    await Promise.all(replicas.map(async (replica) => waitUntilReady(replica, startService(replica, index))));
  }

  const gatewayUrl = 'http://127.0.0.1:4000/graphql';
  await seed(gatewayUrl, (message) => say(message));
  say(`ready: the API is at ${gatewayUrl}${cluster ? ' and http://127.0.0.1:4010/graphql' : ''}`);
  say('  Apollo Sandbox: http://127.0.0.1:4000/graphql (needs internet)');
  say('  offline explorer (GraphiQL): http://127.0.0.1:4000/graphiql');
  say('demo users (sign in with the form at the top of the offline explorer, or the signIn mutation):');
  for (const demo of DEMO_USERS) say(`  username ${demo.username}  password ${demo.password}`);
  say('  or sign up: mutation { signUp(input: { username, password, name }) { accessToken } }');
  say('Ctrl-C stops everything.');
}

main().catch((error: unknown) => {
  say(`failed: ${error instanceof Error ? error.message : String(error)}`);
  void shutdown(1);
});
