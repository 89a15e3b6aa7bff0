import { execFileSync } from 'node:child_process';
import { createDataSource, dropDatabase, openDatabase } from '@brokerage/postgres';
import { createLogger } from '@brokerage/service';
import { Agent, request } from 'undici';
import { ordersDatabase } from '../subgraphs/orders/src/db';
import { checkLedger } from '../subgraphs/orders/src/db/ledger-check';
import { OrderTransitions } from '../subgraphs/orders/src/db/order-transitions';
import { cpuByPart, cpuPerUnit } from './cpu-accounting';
import { BENCH_STOCK_ID, startBenchStack, type BenchStack } from './stack';
import { percentile, quick, report, runStandalone, type Figure } from './support';

// Scenario: buyStock through the gateway at steady rates (open loop: requests leave on schedule
// whether or not earlier ones answered), with the verifier and the verification API stand-in
// running, so that every buy's whole life (request, verification, outcome, status) shares the
// machine with the answers being timed. Each step is bounded in count and time. Reports:
// - the instant answer's p50/p99 at each rate, and the highest rate held with p99 under 5x the
//   p50 at the lowest rate;
// - pgbench's built-in TPC-B-like script against the same PostgreSQL, for scale: buys/s / TPS;
// - the full lifecycle: a rate sustained for 60 s, every order reaching a final status, the
//   ledger proving every balance afterwards, and the CPU each process spent per buy meanwhile
//   (from /proc: every part shares the same 2 cores, so this is what bounds the rate).
// The stand-in answers in 10-100 ms (the real API's 1-100 s would only hold more calls in flight).

const RATES = (process.env.BENCH_BUY_RATES ?? (quick ? '10,20' : '50,100,200,300,400,700,1000'))
  .split(',')
  .map(Number);
const STEP_SECONDS = Number(process.env.BENCH_BUY_STEP_SECONDS ?? (quick ? 1 : 5));
const LIFECYCLE_SECONDS = Number(process.env.BENCH_BUY_LIFECYCLE_SECONDS ?? (quick ? 2 : 60));
const PGBENCH_SECONDS = quick ? 2 : 10;
/**
 * BENCH_BUY_VERIFIER=off leaves the verifier out: the instant answer alone, as the scenario ran
 * before trading accounts (for comparisons with those runs); no lifecycle then.
 */
const WITH_VERIFIER = process.env.BENCH_BUY_VERIFIER !== 'off';

interface Step {
  rate: number;
  achieved: number;
  p50: number;
  p99: number;
  errors: number;
}

export async function run() {
  const tps = await pgbenchTps();
  const stack = await startBenchStack(
    `bench:${Date.now().toString(36)}:status:`,
    WITH_VERIFIER ? { verification: { minDelayMs: 10, maxDelayMs: 100 } } : {},
  );
  const agent = new Agent({ connections: 512 });
  const body = JSON.stringify({
    query: `mutation ($input: BuyStockInput!) { buyStock(input: $input) { status order { id } } }`,
    variables: { input: { stockId: BENCH_STOCK_ID, quantity: 1 } },
  });
  const buy = async (): Promise<number> => {
    const started = performance.now();
    const response = await request(stack.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...stack.asUser },
      body,
      dispatcher: agent,
    });
    const answer = (await response.body.json()) as { data?: { buyStock?: { status: string } } };
    if (answer.data?.buyStock?.status !== 'IN_PROGRESS')
      throw new Error(`unexpected answer ${JSON.stringify(answer)}`);
    return performance.now() - started;
  };
  try {
    for (let i = 0; i < (quick ? 5 : 200); i += 1) await buy(); // warm-up: connections, JIT, query plans
    const layers = await layerLatencies(stack, agent, body);
    const steps: Step[] = [];
    for (const rate of RATES) steps.push(await openLoop(buy, rate, STEP_SECONDS));
    const baseline = steps[0]!.p50;
    const held = steps
      .filter(({ p99, errors }) => p99 < 5 * baseline && errors === 0)
      .map(({ rate }) => rate);
    const highest = Math.max(0, ...held);

    const lifecycle = WITH_VERIFIER ? await lifecycleRun(stack, buy, highest || RATES[0]!) : undefined;
    report(
      'buy',
      [
        ...steps.flatMap(({ rate, achieved, p50, p99, errors }): Figure[] => [
          { name: `${rate}/s offered: answered per second`, value: achieved, unit: '/s' },
          {
            name: `${rate}/s offered: instant answer p50 / p99`,
            value: p50,
            unit: `ms / ${p99.toFixed(1)} ms`,
          },
          ...(errors > 0 ? [{ name: `${rate}/s offered: errors`, value: errors, unit: '' }] : []),
        ]),
        {
          name: 'one at a time, p50: the placing SQL statement / orders subgraph over HTTP / through the gateway',
          value: layers.sql,
          unit: `ms / ${layers.subgraph.toFixed(2)} ms / ${layers.gateway.toFixed(2)} ms`,
        },
        { name: 'pgbench TPC-B-like, same PostgreSQL (-c 8 -j 2)', value: tps, unit: 'TPS' },
        ...(lifecycle?.figures ?? []),
      ],
      [
        {
          name: 'highest rate held with p99 < 5x the low-load p50 (req/s, as x)',
          value: highest,
          target: '>= 1000',
        },
        { name: 'that rate / pgbench TPS', value: tps > 0 ? highest / tps : 0 },
      ],
    );
    if (lifecycle?.failure) throw new Error(lifecycle.failure);
  } finally {
    await agent.close();
    await stack.stop();
  }
}

/**
 * A rate sustained for LIFECYCLE_SECONDS with every buy living its whole life (verification,
 * outcome, announcements), then every order final, the ledger proven, and each process's CPU.
 */
async function lifecycleRun(stack: BenchStack, buy: () => Promise<number>, fallbackRate: number) {
  const rate = Number(process.env.BENCH_BUY_LIFECYCLE_RATE ?? fallbackRate);
  const cpuBefore = cpuByPart();
  const run = await openLoop(buy, rate, LIFECYCLE_SECONDS);
  const settled = await settle(stack);
  const cpu = cpuPerUnit(cpuBefore, cpuByPart(), Math.round(run.achieved * LIFECYCLE_SECONDS));
  const figures: Figure[] = [
    {
      name: `lifecycle: ${rate}/s offered for ${LIFECYCLE_SECONDS} s, answered per second`,
      value: run.achieved,
      unit: `/s (p99 ${run.p99.toFixed(1)} ms, ${run.errors} errors)`,
    },
    {
      name: 'lifecycle: orders still IN_PROGRESS after it (must be 0) / seconds until all were final',
      value: settled.inProgress,
      unit: `/ ${settled.seconds.toFixed(1)} s`,
    },
    { name: 'lifecycle: ledger discrepancies after it (must be 0)', value: settled.discrepancies, unit: '' },
    {
      name: 'lifecycle: CPU per buy, whole life (answer, verification, outcome, announcements), all processes',
      value: cpu.reduce((sum, { ms }) => sum + ms, 0),
      unit: 'ms',
    },
    ...cpu.map(({ part, ms }): Figure => ({
      name: `lifecycle: CPU per buy in ${part}`,
      value: ms,
      unit: 'ms',
    })),
  ];
  const failure =
    settled.inProgress > 0 || settled.discrepancies > 0
      ? `lifecycle failed: ${settled.inProgress} unfinished, ${settled.discrepancies} discrepancies`
      : undefined;
  return { figures, failure };
}

/**
 * Where one buy's answer goes, layer by layer, one request at a time (no queueing): the placing
 * statement alone, as the orders service runs it; the orders subgraph called directly, as the
 * gateway calls it; and the whole path through the gateway.
 */
async function layerLatencies(stack: BenchStack, agent: Agent, body: string) {
  const count = quick ? 20 : 300;
  const p50 = async (once: () => Promise<unknown>) => {
    const times: number[] = [];
    for (let i = 0; i < count; i += 1) {
      const started = performance.now();
      await once();
      times.push(performance.now() - started);
    }
    return percentile(times, 50);
  };
  const dataSource = await openOrdersDatabase(stack);
  try {
    const transitions = new OrderTransitions(dataSource, 90_000, 1_000_000);
    const request_ = {
      side: 'BUY' as const,
      userId: stack.userId,
      stock: { id: BENCH_STOCK_ID },
      size: { quantity: 1 },
    };
    const sql = await p50(() => transitions.placeBuy({ ...request_, clientOrderId: null }));
    const post = (url: string, headers: Record<string, string>) => async () => {
      const response = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
        dispatcher: agent,
      });
      await response.body.text();
    };
    const subgraph = await p50(post(stack.ordersUrl, stack.asUserToOrders));
    const gateway = await p50(post(stack.url, stack.asUser));
    return { sql, subgraph, gateway };
  } finally {
    await dataSource.destroy();
  }
}

async function openLoop(buy: () => Promise<number>, rate: number, seconds: number): Promise<Step> {
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const inFlight: Array<Promise<void>> = [];
  for (let i = 0; i < total; i += 1) {
    const due = started + (i * 1_000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(
      buy().then(
        (ms) => void latencies.push(ms),
        () => void (errors += 1),
      ),
    );
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - started) / 1_000;
  return {
    rate,
    achieved: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
  };
}

/** Waits (up to 2 minutes) until no order is IN_PROGRESS, then proves the ledger. */
async function settle(
  stack: BenchStack,
): Promise<{ inProgress: number; seconds: number; discrepancies: number }> {
  const dataSource = await openOrdersDatabase(stack);
  try {
    const started = performance.now();
    let inProgress = Infinity;
    while (performance.now() - started < 120_000) {
      const [row] = await dataSource.query<Array<{ count: string }>>(
        "SELECT count(*) FROM orders WHERE status = 'IN_PROGRESS'",
      );
      inProgress = Number(row!.count);
      if (inProgress === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const seconds = (performance.now() - started) / 1_000;
    return { inProgress, seconds, discrepancies: (await checkLedger(dataSource)).length };
  } finally {
    await dataSource.destroy();
  }
}

/** The stack's orders database, as the benchmark reads it beside the service. */
function openOrdersDatabase(stack: BenchStack) {
  return openDatabase(
    createDataSource({
      url: stack.ordersDatabaseUrl,
      ...ordersDatabase,
      logger: createLogger({ service: 'bench', level: 'silent' }),
    }),
    stack.ordersDatabaseUrl,
  );
}

/** pgbench's built-in TPC-B-like script on a scratch database of the same server. */
async function pgbenchTps(): Promise<number> {
  const database = `bench_pgbench_${Date.now().toString(36)}`;
  const url = `postgres://postgres@127.0.0.1:5432/${database}`;
  try {
    execFileSync('createdb', ['-h', '127.0.0.1', '-U', 'postgres', database], { stdio: 'ignore' });
    execFileSync('pgbench', ['-i', '-s', quick ? '1' : '10', '-q', url], { stdio: 'ignore' });
    const output = execFileSync('pgbench', ['-c', '8', '-j', '2', '-T', String(PGBENCH_SECONDS), url], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const match = /tps = ([\d.]+)/.exec(output);
    return match ? Number(match[1]) : 0;
  } catch (error) {
    console.warn(`pgbench could not run (${(error as Error).message}); its ratio is left at 0`);
    return 0;
  } finally {
    await dropDatabase(url).catch(() => undefined);
  }
}

if (require.main === module) runStandalone(run);
