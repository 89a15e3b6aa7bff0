import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { prettyFactory } from 'pino-pretty';
import { createLogger, loadConfig } from '@brokerage/common';
import { provisionConfigSchema, provisionStores } from './provision-stores';
import { DEMO_USERS, seed } from './seed';
import { imageNodeFlags } from './dockerfile';

// `npm run dev`: the whole system on this machine. Starts Kafka (unless KAFKA_BROKERS names one),
// every service as a local process in dependency order (each applies its own migrations), loads
// the demo data, and stops everything on Ctrl-C or SIGTERM.

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

const children: Array<{ spec: ServiceSpec; child: ChildProcess }> = [];
let startedKafka = false;
let stopping = false;

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
      env: { ...process.env, PORT: String(spec.port), ...spec.env },
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
  if (startedKafka) spawnSync('bash', [path.join(root, 'scripts/kafka.sh'), 'stop'], { stdio: 'inherit' });
  process.exit(exitCode);
}

async function main() {
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  if (!process.env.KAFKA_BROKERS) {
    const wasRunning = spawnSync('bash', [path.join(root, 'scripts/kafka.sh'), 'status'], {
      stdio: 'ignore',
    });
    const started = spawnSync('bash', [path.join(root, 'scripts/kafka.sh'), 'start'], { stdio: 'inherit' });
    if (started.status !== 0) throw new Error('Kafka did not start; see the lines above');
    startedKafka = wasRunning.status !== 0;
  }

  // Each subgraph connects as its own role (the config defaults): make the roles and their databases.
  await provisionStores(
    loadConfig(provisionConfigSchema, { PROVISION_STORES: 'postgres' }),
    createLogger({ service: 'provision', level: 'warn' }),
  );
  say('PostgreSQL: each service has its own role and database');

  for (const [index, spec] of services.entries()) {
    const child = startService(spec, index);
    await waitUntilReady(spec, child);
  }

  const gatewayUrl = 'http://127.0.0.1:4000/graphql';
  await seed(gatewayUrl, (message) => say(message));
  say(`ready: the API is at ${gatewayUrl}`);
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
