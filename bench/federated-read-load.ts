import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { Agent, request } from 'undici';
import { percentile } from './support';

// The load side of bench/federated-read.ts, a process of its own so that it does not share an
// event loop with what it measures. Given a plan as JSON in argv[2], it warms up, then measures,
// and prints one JSON line: the figures, and the CPU time and peak memory of the process under test.
//
// - `http`: autocannon against a gateway (the process under test is the gateway, by pid).
// - `direct`: the floor, this process fetching the same data from the subgraphs itself, as a
//   client that knows the plan would: the listings page, then one `_entities` call for their
//   users. The process under test is this one.

export interface LoadPlan {
  kind: 'http' | 'direct';
  connections: number;
  warmupSeconds: number;
  seconds: number;
  /** http: the gateway's URL, its pid, the request body and the exact answer expected. */
  url?: string;
  pid?: number;
  body?: string;
  expectBody?: string;
  /** direct: the subgraphs, and the caller token they require. */
  listingsUrl?: string;
  usersUrl?: string;
  callerToken?: string;
}

export interface LoadResult {
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Non-2xx answers, errors, timeouts and answers that differ from the expected one. */
  failures: number;
  cpuMsPerRequest: number;
  peakRssMb: number;
}

const TICKS_PER_SECOND = 100;

/** User plus system CPU time of a process, in ms (Linux /proc; fields 14 and 15, in clock ticks). */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1_000) / TICKS_PER_SECOND;
}

/** Peak resident memory of a process (VmHWM), in MB. */
export function peakRssMbOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('VmHWM:'));
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024;
}

async function http(plan: LoadPlan): Promise<LoadResult> {
  const options = {
    url: plan.url!,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json' },
    body: plan.body!,
    connections: plan.connections,
    expectBody: plan.expectBody!,
  };
  await autocannon({ ...options, duration: plan.warmupSeconds });
  const cpuBefore = cpuMsOf(plan.pid!);
  const result = await autocannon({ ...options, duration: plan.seconds });
  const cpuMs = cpuMsOf(plan.pid!) - cpuBefore;
  return {
    requests: result.requests.total,
    requestsPerSecond: result.requests.total / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts + result.mismatches,
    cpuMsPerRequest: cpuMs / Math.max(1, result.requests.total),
    peakRssMb: peakRssMbOf(plan.pid!),
  };
}

const LISTINGS_QUERY = '{ listings(pageSize: 10) { id price listingType user { id } } }';
const USERS_QUERY =
  'query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on User { id name } } }';

interface ListingRow {
  id: string;
  price: number;
  listingType: string;
  user: { id: string };
}

async function direct(plan: LoadPlan): Promise<LoadResult> {
  const agent = new Agent({ connections: plan.connections, keepAliveTimeout: 30_000 });
  const headers = { 'content-type': 'application/json', 'x-caller-token': plan.callerToken! };
  const post = async <T>(url: string, query: string, variables?: Record<string, unknown>): Promise<T> => {
    const response = await request(url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query, variables }),
      dispatcher: agent,
    });
    const body = (await response.body.json()) as { data?: T; errors?: unknown };
    if (response.statusCode !== 200 || !body.data || body.errors) throw new Error(JSON.stringify(body));
    return body.data;
  };
  /** One read, as the gateway answers it: listings with their owners' names. */
  const read = async () => {
    const { listings } = await post<{ listings: ListingRow[] }>(plan.listingsUrl!, LISTINGS_QUERY);
    const ids = [...new Set(listings.map(({ user }) => user.id))];
    const { _entities: users } = await post<{ _entities: Array<{ id: string; name: string }> }>(
      plan.usersUrl!,
      USERS_QUERY,
      { representations: ids.map((id) => ({ __typename: 'User', id })) },
    );
    const byId = new Map(users.map((user) => [user.id, user]));
    return listings.map(({ id, price, listingType, user }) => ({
      id,
      price,
      listingType,
      user: byId.get(user.id),
    }));
  };
  /** `connections` loops, each one read at a time, for `seconds`; latencies and failures. */
  const drive = async (seconds: number) => {
    const latencies: number[] = [];
    let failures = 0;
    const until = performance.now() + seconds * 1_000;
    await Promise.all(
      Array.from({ length: plan.connections }, async () => {
        while (performance.now() < until) {
          const started = performance.now();
          try {
            await read();
            latencies.push(performance.now() - started);
          } catch {
            failures += 1;
          }
        }
      }),
    );
    return { latencies, failures };
  };
  await drive(plan.warmupSeconds);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const { latencies, failures } = await drive(plan.seconds);
  const elapsed = (performance.now() - started) / 1_000;
  const cpu = process.cpuUsage(cpuBefore);
  await agent.close();
  return {
    requests: latencies.length,
    requestsPerSecond: latencies.length / elapsed,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    failures,
    cpuMsPerRequest: (cpu.user + cpu.system) / 1_000 / Math.max(1, latencies.length),
    peakRssMb: peakRssMbOf(process.pid),
  };
}

if (require.main === module) {
  const plan = JSON.parse(process.argv[2]!) as LoadPlan;
  (plan.kind === 'http' ? http(plan) : direct(plan)).then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
