import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InternalTokens } from '@brokerage/auth';
import { dropDatabase } from '@brokerage/postgres';
import { Client } from 'pg';
import { freePort, type ServiceProcess } from '../test/support/processes';
import type { LoadPlan, LoadResult } from './federated-read-load';
import { benchSecrets } from './security';
import { quick, report, root, runStandalone, spawnBenchService, type Figure } from './support';

// Scenario: a federated read, `{ listings(pageSize: 10) { id price listingType user { id name } } }`
// (the listings subgraph, then the users subgraph for the owners), 50 connections, against:
// - our gateway (one process, production settings);
// - our gateway with in-flight sharing of identical subgraph reads turned off (what it buys);
// - Hive Gateway 2.15 (one process) over the same supergraph and subgraphs;
// - the floor: a client fetching the same data from the subgraphs itself (no gateway).
// The subgraphs are real (PostgreSQL, 50 users, 200 listings), processes of their own; the load
// comes from another process. Targets: ours >= 1.5x Hive's throughput and >= 0.5x the floor's.

const USERS = quick ? 10 : 50;
const LISTINGS = quick ? 20 : 200;
const CONNECTIONS = 50;
const WARMUP_SECONDS = Number(process.env.BENCH_READ_WARMUP_SECONDS ?? (quick ? 1 : 5));
const SECONDS = Number(process.env.BENCH_READ_SECONDS ?? (quick ? 1 : 15));
const QUERY = '{ listings(pageSize: 10) { id price listingType user { id name } } }';
const HIVE_BIN = path.join(root, 'node_modules/@graphql-hive/gateway/dist/bin.js');

interface Target {
  name: string;
  result: LoadResult;
}

/** Runs the load process with a plan and returns what it measured. */
function load(plan: LoadPlan): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(root, 'bench/federated-read-load.ts'), JSON.stringify(plan)],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`load process exited with ${code}`));
      resolve(JSON.parse(output.trim().split('\n').at(-1)!) as LoadResult);
    });
  });
}

async function post<T>(url: string, query: string, headers: Record<string, string> = {}): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown };
  if (!body.data || body.errors) throw new Error(`${url}: ${JSON.stringify(body.errors ?? body)}`);
  return body.data;
}

/** Waits until `url` answers 200 (a readiness endpoint). */
async function waitUntilUp(url: string, child: ChildProcess, output: string[], timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}:\n${output.join('')}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not up after ${timeoutMs} ms:\n${output.join('')}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Hive Gateway over the same supergraph, its subgraph URLs pointed at the bench's subgraphs
 * (`urls`, by subgraph name), in one process with its defaults and whatever `config` adds (the
 * caller token our subgraphs require: source text of gatewayConfig's other entries, and of
 * declarations before it).
 */
export async function startHive(
  dir: string,
  urls: Record<string, string>,
  config: { entries: string; preamble?: string },
): Promise<ServiceProcess> {
  let supergraph = readFileSync(path.join(root, 'schema/supergraph.graphql'), 'utf8');
  for (const [name, url] of Object.entries(urls)) {
    supergraph = supergraph.replace(new RegExp(`(@join__graph\\(name: "${name}", url: ")[^"]*`), `$1${url}`);
  }
  writeFileSync(path.join(dir, 'supergraph.graphql'), supergraph);
  writeFileSync(
    path.join(dir, 'gateway.config.mjs'),
    `${config.preamble ?? ''}
export const gatewayConfig = {
  supergraph: ${JSON.stringify(path.join(dir, 'supergraph.graphql'))},
  ${config.entries}
};
`,
  );
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [HIVE_BIN, 'supergraph', '--config-path', path.join(dir, 'gateway.config.mjs'), '--port', String(port)],
    {
      cwd: dir,
      env: { ...process.env, NODE_ENV: 'production', FORK: '1', HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await waitUntilUp(`http://127.0.0.1:${port}/readiness`, child, output);
  return {
    child,
    port,
    output,
    ready: async () => undefined,
    kill: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export async function run() {
  const suffix = Date.now().toString(36);
  const dir = path.join(root, '.tmp', `bench-federated-read-${suffix}`);
  mkdirSync(dir, { recursive: true });
  const secrets = benchSecrets();
  const databases = {
    users: `postgres://postgres@127.0.0.1:5432/bench_read_users_${suffix}`,
    listings: `postgres://postgres@127.0.0.1:5432/bench_read_listings_${suffix}`,
  };
  const processes: ServiceProcess[] = [];
  const base = { NODE_ENV: 'production', LOG_LEVEL: 'warn', ...secrets };
  try {
    const users = await spawnBenchService('subgraphs/users/src/index.ts', {
      ...base,
      DATABASE_URL: databases.users,
    });
    processes.push(users);
    await users.ready(60_000);
    const usersUrl = `http://127.0.0.1:${users.port}/graphql`;
    const listings = await spawnBenchService('subgraphs/listings/src/index.ts', {
      ...base,
      DATABASE_URL: databases.listings,
      USERS_SUBGRAPH_URL: usersUrl,
    });
    processes.push(listings);
    await listings.ready(60_000);
    const listingsUrl = `http://127.0.0.1:${listings.port}/graphql`;

    // Seeded straight into the subgraphs as an admin, with the token the gateway would send.
    const tokens = new InternalTokens(secrets.INTERNAL_AUTH_SECRET, 'bench', 3_600);
    const admin = { 'x-caller-token': await tokens.sign({ kind: 'user', userId: '1', admin: true }) };
    const userIds: string[] = [];
    // Readers only: no trading accounts (the orders subgraph is not part of this read), so the
    // users are written straight into the users database.
    const usersDb = new Client({ connectionString: databases.users });
    await usersDb.connect();
    try {
      const { rows } = await usersDb.query<{ id: string }>(
        "INSERT INTO users (name) SELECT 'Reader ' || i FROM generate_series(0, $1 - 1) AS i ORDER BY i RETURNING id",
        [USERS],
      );
      userIds.push(...rows.map(({ id }) => id));
    } finally {
      await usersDb.end();
    }
    for (let i = 0; i < LISTINGS; i += 1) {
      await post(
        listingsUrl,
        `mutation { createListing(input: { userId: "${userIds[i % USERS]}", listingType: ${i % 2 ? 'RENT' : 'SALE'}, price: ${1_000 + i} }) { id } }`,
        admin,
      );
    }
    const anonymousToken = await tokens.sign({ kind: 'anonymous' });

    const gatewayEnv = {
      ...base,
      SUBGRAPH_USERS_URL: usersUrl,
      SUBGRAPH_LISTINGS_URL: listingsUrl,
      // Not part of this query; nothing listens there.
      SUBGRAPH_STOCKS_URL: 'http://127.0.0.1:9/graphql',
      SUBGRAPH_ORDERS_URL: 'http://127.0.0.1:9/graphql',
      SUPERGRAPH_PATH: path.join(root, 'schema/supergraph.graphql'),
      // The read budget stays on (its Redis call is part of what a read costs) but is never spent.
      RATE_LIMIT_READ_POINTS: '1000000000',
      // The run's own counters: user ids start at 1 in every run, and in `npm run dev` too.
      RATE_LIMIT_KEY_PREFIX: `bench:${Date.now().toString(36)}:ratelimit:`,
    };
    const body = JSON.stringify({ query: QUERY });
    const plan = { connections: CONNECTIONS, warmupSeconds: WARMUP_SECONDS, seconds: SECONDS };
    let expected: unknown;
    /** One answer checked against the first gateway's, then the load; the process stopped after. */
    const measure = async (name: string, service: ServiceProcess): Promise<Target> => {
      const url = `http://127.0.0.1:${service.port}/graphql`;
      const answer = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      const text = await answer.text();
      const { data } = JSON.parse(text) as { data?: { listings: unknown[] } };
      if (!data || data.listings.length !== 10) throw new Error(`${name} answered ${text}`);
      expected ??= data;
      if (JSON.stringify(data) !== JSON.stringify(expected)) throw new Error(`${name} answered ${text}`);
      const result = await load({
        ...plan,
        kind: 'http',
        url,
        pid: service.child.pid!,
        body,
        expectBody: text,
      });
      await service.kill('SIGTERM');
      return { name, result };
    };

    const targets: Target[] = [];
    const ours = await spawnBenchService('gateway/src/index.ts', gatewayEnv);
    processes.push(ours);
    await ours.ready(60_000);
    targets.push(await measure('our gateway', ours));

    const unshared = await spawnBenchService('gateway/src/index.ts', {
      ...gatewayEnv,
      SUBGRAPH_SHARE_IN_FLIGHT: 'false',
    });
    processes.push(unshared);
    await unshared.ready(60_000);
    targets.push(await measure('our gateway, in-flight sharing off', unshared));

    const hive = await startHive(
      dir,
      { users: usersUrl, listings: listingsUrl },
      {
        entries: `transportEntries: { '*.http': { headers: [['x-caller-token', ${JSON.stringify(anonymousToken)}]] } },`,
      },
    );
    processes.push(hive);
    targets.push(await measure('Hive Gateway 2.15', hive));

    const floor = await load({ ...plan, kind: 'direct', listingsUrl, usersUrl, callerToken: anonymousToken });
    targets.push({ name: 'direct from the subgraphs (floor)', result: floor });

    const figures: Figure[] = targets.flatMap(({ name, result }) => [
      { name: `${name}: throughput`, value: result.requestsPerSecond, unit: 'req/s' },
      { name: `${name}: latency p50 / p99`, value: result.p50Ms, unit: `ms / ${result.p99Ms.toFixed(1)} ms` },
      {
        name: `${name}: CPU per request${name.startsWith('direct') ? ' (the client)' : ''}`,
        value: result.cpuMsPerRequest,
        unit: 'ms',
      },
      { name: `${name}: peak RSS`, value: result.peakRssMb, unit: 'MB' },
      ...(result.failures > 0 ? [{ name: `${name}: failed answers`, value: result.failures, unit: '' }] : []),
    ]);
    const rate = (name: string) =>
      targets.find((target) => target.name.startsWith(name))?.result.requestsPerSecond;
    const ourRate = rate('our gateway')!;
    const hiveRate = rate('Hive')!;
    const floorRate = rate('direct')!;
    const unsharedRate = rate('our gateway, in-flight sharing off')!;
    report(
      'federated-read',
      [{ name: 'connections', value: CONNECTIONS, unit: '' }, ...figures],
      [
        { name: 'ours / Hive Gateway (req/s)', value: ourRate / hiveRate, target: '>= 1.5x' },
        { name: 'ours / direct from the subgraphs (req/s)', value: ourRate / floorRate, target: '>= 0.5x' },
        { name: 'ours / ours with in-flight sharing off', value: ourRate / unsharedRate },
        { name: 'ours with in-flight sharing off / Hive Gateway', value: unsharedRate / hiveRate },
      ],
    );
  } finally {
    await Promise.all(processes.map((service) => service.kill('SIGTERM')));
    await Promise.all(Object.values(databases).map((url) => dropDatabase(url).catch(() => undefined)));
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) runStandalone(run);
