import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

// Makes sure the real services integration tests need are up: PostgreSQL and Redis (starting the
// machine's own servers when they are installed but stopped) and a Kafka broker (started by
// scripts/kafka.sh unless KAFKA_BROKERS names a running cluster). Suites isolate their own data.

const root = path.resolve(__dirname, '..');

function portOpen(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function waitForPort(name: string, host: string, port: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await portOpen(host, port))) {
    if (Date.now() > deadline) throw new Error(`${name} is not answering on ${host}:${port}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function hostPort(url: string, defaultPort: number): [string, number] {
  const parsed = new URL(url);
  return [parsed.hostname, Number(parsed.port || defaultPort)];
}

async function ensurePostgres() {
  const [host, port] = hostPort(
    process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    5432,
  );
  if (await portOpen(host, port)) return;
  const versions = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql') : [];
  if (versions.length === 0)
    throw new Error(`PostgreSQL is not answering on ${host}:${port} and is not installed here`);
  console.log(`[test setup] starting PostgreSQL ${versions[0]}`);
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', versions[0]!, 'main', 'start'], {
    stdio: 'inherit',
  });
  await waitForPort('PostgreSQL', host, port, 30_000);
}

async function ensureRedis() {
  const [host, port] = hostPort(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', 6379);
  if (await portOpen(host, port)) return;
  console.log('[test setup] starting redis-server');
  execFileSync(
    'redis-server',
    ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'],
    { stdio: 'inherit' },
  );
  await waitForPort('Redis', host, port, 15_000);
}

async function ensureKafka(): Promise<boolean> {
  if (process.env.KAFKA_BROKERS) return false;
  if (await portOpen('127.0.0.1', 9092)) {
    process.env.KAFKA_BROKERS = '127.0.0.1:9092';
    return false;
  }
  execFileSync('bash', [path.join(root, 'scripts/kafka.sh'), 'start'], { stdio: 'inherit' });
  process.env.KAFKA_BROKERS = '127.0.0.1:9092';
  return true;
}

export default async function globalSetup() {
  const [, , startedKafka] = await Promise.all([ensurePostgres(), ensureRedis(), ensureKafka()]);
  // Read by global-teardown.ts, which runs in this same process.
  process.env.TEST_STARTED_KAFKA = startedKafka ? '1' : '';
}
