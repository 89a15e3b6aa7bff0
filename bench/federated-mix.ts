import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_JWT_AUDIENCE, DEFAULT_JWT_ISSUER, InternalTokens } from '@brokerage/auth';
import { createRedis } from '@brokerage/redis';
import { createLogger } from '@brokerage/service';
import { Client } from 'pg';
import type { ServiceProcess } from '../test/support/processes';
import { MinuteSeriesStore } from '../workers/price-ingestor/src/minute-series-store';
import type { ListingsPage, MixPlan, MixResult, MixUser } from './federated-mix-load';
import { startHive } from './federated-read';
import { BENCH_STOCK_ID, graphql, startBenchStack, type BenchStack } from './stack';
import {
  median,
  quick,
  report,
  root,
  runStandalone,
  spawnBenchService,
  type Figure,
  type Ratio,
} from './support';

// Scenario: a realistic mix through the gateway. 50 connections, each signed in as a different
// user (each with holdings, final orders and a trading account), each sending one request at a
// time: listings pages with their owners (40 %, pageNum/pageSize/userId varying), the user's own
// portfolio (40 %), the stocks with their day's minute prices (10 %) and a mutation (10 %: a cancel
// of one of the user's final orders, refused with ORDER_NOT_CANCELLABLE, which changes nothing).
// No two requests in flight are the same (bench/federated-mix-load.ts says how), so sharing
// in-flight calls buys nothing here. Targets, back to back in each round:
// - our gateway (production settings; its mutation rate limit and read budget on, and out of reach);
// - Hive Gateway 2.15 (defaults, in-flight dedup on) over the same supergraph and subgraphs, with
//   a config that verifies the same user tokens and signs the same caller tokens, both cached per
//   token as ours does;
// - the floor: a client making the same subgraph calls itself, with each user's caller token.
// Every distinct request is asked of every target first, and the answers must agree; during the
// load every answer must equal that target's first answer to it, byte for byte.
// Targets: ours >= 1.5x Hive's req/s and >= 0.7x the floor's, p99 no worse than Hive's.

const CONNECTIONS = 50;
const USERS = CONNECTIONS;
const STOCKS = 10;
const MINUTES = quick ? 10 : 120;
const LISTINGS = quick ? 50 : 200;
const ORDERS_PER_USER = quick ? 12 : 30;
const HOLDINGS_PER_USER = 3;
/** The final orders each user cancels in turn (every one is asked once before the load). */
const FINAL_ORDERS_CANCELLED = quick ? 2 : 10;
const WARMUP_SECONDS = Number(process.env.BENCH_READ_WARMUP_SECONDS ?? (quick ? 1 : 5));
const SECONDS = Number(process.env.BENCH_READ_SECONDS ?? (quick ? 1 : 15));
const ROUNDS = Number(process.env.BENCH_MIX_ROUNDS ?? (quick ? 1 : 2));
/**
 * Gateway variants measured beside ours, for A/B of one change in one run: `name=VAR:value,VAR:value`
 * separated by `;`, e.g. `BENCH_MIX_VARIANTS="sharing off=SUBGRAPH_SHARE_IN_FLIGHT:false"`. The
 * setting `BUNDLE:<path>` runs another build of the gateway (a path from the repository's root,
 * e.g. a commit's `gateway/dist/index.js` copied to `gateway/dist-base/index.js`) instead of a setting.
 */
const VARIANTS = (process.env.BENCH_MIX_VARIANTS ?? '')
  .split(';')
  .filter(Boolean)
  .map((spec) => {
    const [name, ...settings] = spec.split('=');
    const env: Record<string, string> = {};
    for (const pair of settings.join('=').split(',')) {
      const split = pair.indexOf(':');
      env[pair.slice(0, split)] = pair.slice(split + 1);
    }
    const { BUNDLE: bundle, ...rest } = env;
    return { name: name!, env: rest, bundle };
  });

/** Runs the load process with a plan and returns what it measured. */
function load(dir: string, plan: MixPlan): Promise<MixResult> {
  const planPath = path.join(dir, `plan-${Date.now().toString(36)}.json`);
  writeFileSync(planPath, JSON.stringify(plan));
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(root, 'bench/federated-mix-load.ts'), planPath],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`load process exited with ${code}`));
      resolve(JSON.parse(output.trim().split('\n').at(-1)!) as MixResult);
    });
  });
}

const stockIdOf = (i: number) => (i === 0 ? BENCH_STOCK_ID : `${9_000_000 + i}`);

/**
 * Users, stocks with a day of minute prices, listings (through the gateway, as an admin), and each
 * user's holdings and final orders (straight into the orders database: a completed order there is
 * what a verified buy leaves).
 */
async function seed(stack: BenchStack): Promise<MixUser[]> {
  const asAdmin = await stack.signAs('bench-admin', true);
  const redis = createRedis({
    url: 'redis://127.0.0.1:6379',
    keyPrefix: stack.pricesKeyPrefix,
    logger: createLogger({ service: 'bench', level: 'silent' }),
  });
  try {
    const quotes = [];
    for (let i = 0; i < STOCKS; i += 1) {
      // The stack lists stock1 (i = 0) itself.
      if (i > 0) {
        await graphql(
          stack.url,
          `mutation { createStock(input: { id: "${stockIdOf(i)}", symbol: "mix${i}", name: "Mix ${i}" }) { id } }`,
          {},
          asAdmin,
        );
      }
      for (let minute = 1; minute <= MINUTES; minute += 1) {
        const hhmm = 900 + Math.floor(minute / 60) * 100 + (minute % 60);
        quotes.push({
          stockId: stockIdOf(i),
          symbol: i === 0 ? 'stock1' : `mix${i}`,
          date: '20261121',
          time: `${String(hhmm).padStart(4, '0')}00`,
          seq: 1,
          price: 100 + i * 10 + (minute % 7),
        });
      }
    }
    await new MinuteSeriesStore(redis).apply(quotes);
  } finally {
    redis.disconnect();
  }
  const ids: string[] = [];
  for (let i = 0; i < USERS; i += 1) {
    const { createUser } = await graphql<{ createUser: { id: string } }>(
      stack.url,
      `mutation { createUser(input: { name: "Mixer ${i}", credit: ${1_000_000 + i} }) { id } }`,
      {},
      asAdmin,
    );
    ids.push(createUser.id);
  }
  for (let i = 0; i < LISTINGS; i += 1) {
    await graphql(
      stack.url,
      `mutation { createListing(input: { userId: "${ids[i % USERS]}", listingType: ${i % 2 ? 'RENT' : 'SALE'}, price: ${1_000 + i} }) { id } }`,
      {},
      asAdmin,
    );
  }
  const db = new Client({ connectionString: stack.ordersDatabaseUrl });
  await db.connect();
  const finalOrders = new Map<string, string[]>();
  try {
    for (const [u, id] of ids.entries()) {
      for (let h = 0; h < HOLDINGS_PER_USER; h += 1) {
        await db.query('INSERT INTO holdings (user_id, stock_id, quantity) VALUES ($1, $2, $3)', [
          id,
          stockIdOf((u + h) % STOCKS),
          10 + h,
        ]);
      }
      const { rows } = await db.query<{ id: string }>(
        `INSERT INTO orders (side, user_id, stock_id, quantity, price, total, status, message, created_at, updated_at)
         SELECT CASE WHEN n % 4 = 0 THEN 'SELL' ELSE 'BUY' END, $1, ($3::text[])[1 + n % array_length($3::text[], 1)],
                1 + n % 5, 100, (1 + n % 5) * 100,
                (ARRAY['COMPLETED', 'FAILED', 'CANCELLED'])[1 + n % 3], '', t, t
           FROM generate_series(1, $2) AS n,
                LATERAL (SELECT now() - interval '1 day' - n * interval '1 minute' AS t) AS v
         RETURNING id`,
        [id, ORDERS_PER_USER, Array.from({ length: STOCKS }, (_, i) => stockIdOf(i))],
      );
      finalOrders.set(
        id,
        rows.slice(0, FINAL_ORDERS_CANCELLED).map((row) => row.id),
      );
    }
    await db.query('ANALYZE orders');
  } finally {
    await db.end();
  }
  const tokens = new InternalTokens(stack.secrets.INTERNAL_AUTH_SECRET, 'gateway', 7_200);
  return Promise.all(
    ids.map(async (id) => ({
      id,
      authorization: (await stack.signAs(id)).authorization!,
      callerToken: await tokens.sign({ kind: 'user', userId: id, admin: false }),
      finalOrderIds: finalOrders.get(id)!,
    })),
  );
}

/** 60 pages (coprime with the 13 the connections start apart): offsets, sizes, one owner's. */
function listingsPages(users: MixUser[]): ListingsPage[] {
  return Array.from({ length: 60 }, (_, v) => {
    const step = Math.floor(v / 3);
    if (v % 3 === 0) return { pageNum: 1 + (step % 20), pageSize: 10 };
    if (v % 3 === 1) return { pageNum: 1 + (step % 10), pageSize: 20 };
    return { pageNum: 1, pageSize: 10, userId: users[step % users.length]!.id };
  });
}

/**
 * Hive Gateway's part of the caller handling our gateway does: the user token verified (HS256,
 * issuer, audience, expiry) and a caller token signed for the subgraphs, each once per token and
 * then looked up, as ours caches them.
 */
function hiveCallerTokens(secrets: BenchStack['secrets']): { preamble: string; entries: string } {
  return {
    preamble: `import { createHmac, timingSafeEqual } from 'node:crypto';
const USER_SECRET = ${JSON.stringify(secrets.JWT_SECRET)};
const INTERNAL_SECRET = ${JSON.stringify(secrets.INTERNAL_AUTH_SECRET)};
const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const cached = new Map();
function userOf(authorization) {
  const match = /^Bearer\\s+([\\w-]+)\\.([\\w-]+)\\.([\\w-]+)\\s*$/i.exec(authorization);
  if (!match) return undefined;
  const mac = createHmac('sha256', USER_SECRET).update(match[1] + '.' + match[2]).digest();
  const signature = Buffer.from(match[3], 'base64url');
  if (signature.length !== mac.length || !timingSafeEqual(signature, mac)) return undefined;
  if (JSON.parse(Buffer.from(match[1], 'base64url').toString()).alg !== 'HS256') return undefined;
  const claims = JSON.parse(Buffer.from(match[2], 'base64url').toString());
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (claims.iss !== ${JSON.stringify(DEFAULT_JWT_ISSUER)} || !audiences.includes(${JSON.stringify(DEFAULT_JWT_AUDIENCE)})) return undefined;
  if (typeof claims.exp !== 'number' || claims.exp * 1000 <= Date.now() || typeof claims.sub !== 'string') return undefined;
  return claims;
}
function callerToken(authorization) {
  const now = Date.now();
  const hit = cached.get(authorization);
  if (hit && hit.until > now) return hit.token;
  const claims = userOf(authorization);
  const iat = Math.floor(now / 1000);
  const admin = Array.isArray(claims?.roles) && claims.roles.includes('admin');
  const head = part({ alg: 'HS256' }) + '.' + part({
    admin: admin || undefined, act: 'hive', sub: claims ? 'user:' + claims.sub : 'anonymous',
    iss: 'brokerage-platform', aud: 'brokerage-services', iat, exp: iat + 300,
  });
  const token = head + '.' + createHmac('sha256', INTERNAL_SECRET).update(head).digest('base64url');
  cached.set(authorization, { token, until: Math.min(now + 150_000, claims ? claims.exp * 1000 : Infinity) });
  return token;
}`,
    entries: `propagateHeaders: {
    fromClientToSubgraphs: ({ request }) => ({ 'x-caller-token': callerToken(request.headers.get('authorization') ?? '') }),
  },`,
  };
}

interface Target {
  name: string;
  /** A gateway's process, or none for the floor. */
  service?: ServiceProcess;
  results: MixResult[];
}

export async function run() {
  const suffix = Date.now().toString(36);
  const dir = path.join(root, '.tmp', `bench-federated-mix-${suffix}`);
  mkdirSync(dir, { recursive: true });
  const stack = await startBenchStack(`bench:mix:${suffix}:status:`, { listings: true });
  const extra: ServiceProcess[] = [];
  try {
    const users = await seed(stack);
    const base = {
      connections: CONNECTIONS,
      warmupSeconds: WARMUP_SECONDS,
      seconds: SECONDS,
      users,
      listingsPages: listingsPages(users),
      serving: { pids: stack.subgraphPids, databaseTag: stack.databaseTag },
    };
    const targets: Target[] = [{ name: 'our gateway', service: stack.gateway, results: [] }];
    for (const variant of VARIANTS) {
      const service = await spawnBenchService(
        'gateway/src/index.ts',
        { ...stack.gatewayEnv, ...variant.env },
        { bundle: variant.bundle },
      );
      extra.push(service);
      await service.ready(60_000);
      targets.push({ name: `our gateway, ${variant.name}`, service, results: [] });
    }
    const hive = await startHive(dir, stack.subgraphUrls, hiveCallerTokens(stack.secrets));
    extra.push(hive);
    targets.push({ name: 'Hive Gateway 2.15', service: hive, results: [] });
    targets.push({ name: 'direct from the subgraphs (floor)', results: [] });

    let reference: Record<string, string> | undefined;
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const target of targets) {
        const answersPath = path.join(dir, `answers-${round}-${targets.indexOf(target)}.json`);
        const result = await load(
          dir,
          target.service
            ? {
                ...base,
                kind: 'http',
                url: `http://127.0.0.1:${target.service.port}/graphql`,
                pid: target.service.child.pid!,
                answersPath,
              }
            : {
                ...base,
                kind: 'direct',
                subgraphs: stack.subgraphUrls as NonNullable<MixPlan['subgraphs']>,
                answersPath,
              },
        );
        // Every target answers every distinct request as the first did.
        const answers = JSON.parse(readFileSync(answersPath, 'utf8')) as Record<string, string>;
        reference ??= answers;
        const differing = Object.keys(reference).filter((key) => answers[key] !== reference![key]);
        if (differing.length > 0 || Object.keys(answers).length !== Object.keys(reference).length) {
          const key = differing[0];
          throw new Error(
            `${target.name} answers ${differing.length} request(s) differently, e.g. ${key}: ${answers[key!]} (first: ${reference[key!]})`,
          );
        }
        target.results.push(result);
      }
    }

    const summary = targets.map(({ name, results }) => ({
      name,
      requestsPerSecond: median(results.map((result) => result.requestsPerSecond)),
      p50Ms: median(results.map((result) => result.p50Ms)),
      p99Ms: median(results.map((result) => result.p99Ms)),
      cpuMsPerRequest: median(results.map((result) => result.cpuMsPerRequest)),
      peakRssMb: Math.max(...results.map((result) => result.peakRssMb)),
      failures: results.reduce((sum, result) => sum + result.failures, 0),
      firstFailure: results.find((result) => result.firstFailure)?.firstFailure,
      /** The rest of the system's CPU per request (subgraphs, PostgreSQL, Redis), median over rounds. */
      subgraphsMs: median(results.map((result) => result.cpuByPart.reduce((sum, { ms }) => sum + ms, 0))),
      byKind: results.at(-1)!.byKind,
      parts: results.at(-1)!.cpuByPart,
    }));
    for (const target of summary) {
      if (target.firstFailure) console.error(`${target.name}: first failure: ${target.firstFailure}`);
    }
    const figures: Figure[] = summary.flatMap((target) => [
      { name: `${target.name}: throughput`, value: target.requestsPerSecond, unit: 'req/s' },
      {
        name: `${target.name}: latency p50 / p99`,
        value: target.p50Ms,
        unit: `ms / ${target.p99Ms.toFixed(1)} ms`,
      },
      {
        name: `${target.name}: p50 / p99 by kind (listings, portfolio, stocks, cancel)`,
        value: target.byKind.listings!.p50Ms,
        unit: `/ ${target.byKind.listings!.p99Ms.toFixed(0)}, ${target.byKind.portfolio!.p50Ms.toFixed(1)} / ${target.byKind.portfolio!.p99Ms.toFixed(0)}, ${target.byKind.stocks!.p50Ms.toFixed(1)} / ${target.byKind.stocks!.p99Ms.toFixed(0)}, ${target.byKind.cancel!.p50Ms.toFixed(1)} / ${target.byKind.cancel!.p99Ms.toFixed(0)} ms`,
      },
      {
        name: `${target.name}: CPU per request${target.name.startsWith('direct') ? ' (the client)' : ''}`,
        value: target.cpuMsPerRequest,
        unit: 'ms',
      },
      {
        name: `${target.name}: subgraphs' and their PostgreSQL backends' CPU per request`,
        value: target.subgraphsMs,
        unit: `ms (last round: ${target.parts.map(({ part, ms }) => `${part} ${ms.toFixed(2)}`).join(', ')})`,
      },
      { name: `${target.name}: peak RSS`, value: target.peakRssMb, unit: 'MB' },
      ...(target.failures > 0
        ? [{ name: `${target.name}: failed answers`, value: target.failures, unit: '' }]
        : []),
    ]);
    const find = (prefix: string) => summary.find(({ name }) => name.startsWith(prefix))!;
    const ours = find('our gateway');
    const hiveSummary = find('Hive');
    const floor = find('direct');
    const perRound = (a: Target, b: Target) =>
      a.results.map((result, i) => (result.requestsPerSecond / b.results[i]!.requestsPerSecond).toFixed(2));
    const ratios: Ratio[] = [
      {
        name: `ours / Hive Gateway (req/s; rounds: ${perRound(targets[0]!, targets.at(-2)!).join(', ')})`,
        value: ours.requestsPerSecond / hiveSummary.requestsPerSecond,
        target: '>= 1.5x',
      },
      {
        name: `ours / direct from the subgraphs (req/s; rounds: ${perRound(targets[0]!, targets.at(-1)!).join(', ')})`,
        value: ours.requestsPerSecond / floor.requestsPerSecond,
        target: '>= 0.7x',
      },
      { name: 'ours p99 / Hive Gateway p99', value: ours.p99Ms / hiveSummary.p99Ms, target: '<= 1x' },
      ...targets.slice(1, 1 + VARIANTS.length).map((variant) => ({
        name: `ours / ${variant.name} (req/s; rounds: ${perRound(targets[0]!, variant).join(', ')})`,
        value: ours.requestsPerSecond / find(variant.name).requestsPerSecond,
      })),
    ];
    report(
      'federated-mix',
      [{ name: 'connections (one user each), rounds', value: CONNECTIONS, unit: `, ${ROUNDS}` }, ...figures],
      ratios,
    );
  } finally {
    await Promise.all(extra.map((service) => service.kill('SIGTERM')));
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) runStandalone(run);
