import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { cpuMsOf, peakRssMbOf } from './federated-read-load';
import { percentile } from './support';

// The load side of bench/federated-mix.ts, a process of its own so that it does not share an
// event loop with what it measures. Given the path of a plan (JSON) in argv[2], it asks every
// distinct request of the mix once (the answers every later one must equal, byte for byte), warms
// up, measures, writes the answers it was given (normalised, for the cross-check between
// targets) and prints one JSON line of figures.
//
// Connection c is user c, signed in with its own token, sending one request at a time. Its k-th
// request is, by (k + c) mod 10: a listings page (0-3), its own portfolio (4-7), the stocks with
// their day's prices (8) or a cancel of one of its final orders (9, answered ORDER_NOT_CANCELLABLE,
// which changes nothing): 40/40/10/10. Connections differ by caller, and the listings page each asks
// steps through the variants from a different place, so no two requests in flight are the same.
//
// - `http`: against a gateway (the process under test, by pid).
// - `direct`: the floor, this process making the subgraph calls itself, as a client that knows the
//   plans would, with each user's caller token: the process under test is this one.

export interface MixUser {
  id: string;
  /** `Bearer <user token>`, for gateways. */
  authorization: string;
  /** The platform's caller token for this user, for the subgraphs themselves (direct). */
  callerToken: string;
  /** Orders of the user's that are final: cancelling them is refused and changes nothing. */
  finalOrderIds: string[];
}

export interface ListingsPage {
  pageNum: number;
  pageSize: number;
  userId?: string;
}

export interface MixPlan {
  kind: 'http' | 'direct';
  connections: number;
  warmupSeconds: number;
  seconds: number;
  users: MixUser[];
  listingsPages: ListingsPage[];
  /** http: the gateway's URL and pid. */
  url?: string;
  pid?: number;
  /** direct: each subgraph's URL. */
  subgraphs?: { users: string; listings: string; orders: string; stocks: string };
  /** Where to write every distinct request's answer, normalised. */
  answersPath: string;
  /** The processes behind every target: each subgraph's pid, and its databases' name tag. */
  serving: { pids: Record<string, number>; databaseTag: string };
}

export interface MixResult {
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Per kind of request: how many, and their p50 / p99. */
  byKind: Record<string, { requests: number; p50Ms: number; p99Ms: number }>;
  /** Failed calls and answers that differ from the first answer to the same request. */
  failures: number;
  firstFailure?: string;
  cpuMsPerRequest: number;
  peakRssMb: number;
  /** CPU ms per request of each subgraph and of their PostgreSQL backends over the measured window. */
  cpuByPart: Array<{ part: string; ms: number }>;
}

/**
 * CPU ms so far of the stack's own processes: each subgraph by pid, and the PostgreSQL backends
 * of its databases (their process title names the database). Processes of the same names that
 * other runs on the machine start are not counted.
 */
function servingCpu({ pids, databaseTag }: MixPlan['serving']): Map<string, number> {
  const used = new Map(Object.entries(pids).map(([part, pid]) => [part, cpuMsOf(pid)]));
  let postgres = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const title = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (title.startsWith('postgres: ') && title.includes(databaseTag)) postgres += cpuMsOf(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  used.set('PostgreSQL', postgres);
  return used;
}

export const MIX_QUERIES = {
  listings:
    'query Listings($pageNum: Int, $pageSize: Int, $userId: ID) { listings(pageNum: $pageNum, pageSize: $pageSize, userId: $userId) { id price listingType user { id name } } }',
  portfolio:
    'query Portfolio($id: ID!) { user(id: $id) { name credit holdings { stock { symbol lastPrice } quantity } orders(pageSize: 10) { status total stock { symbol } } } }',
  stocks: 'query Stocks { stocks { symbol lastPrice priceHistory { price } } }',
  cancel: 'mutation Cancel($id: ID!) { cancelOrder(id: $id) { status } }',
} as const;

type Kind = keyof typeof MIX_QUERIES;

interface MixRequest {
  kind: Kind;
  /** Requests with the same key have the same answer, whoever asks. */
  key: string;
  variables: Record<string, unknown>;
}

/** The k-th request of connection c. */
export function requestOf(plan: Pick<MixPlan, 'users' | 'listingsPages'>, c: number, k: number): MixRequest {
  const user = plan.users[c % plan.users.length]!;
  const slot = (k + c) % 10;
  if (slot < 4) {
    // Connections start 13 variants apart (coprime with the variant count): different pages.
    const index = (c * 13 + k) % plan.listingsPages.length;
    const { pageNum, pageSize, userId } = plan.listingsPages[index]!;
    return { kind: 'listings', key: `listings:${index}`, variables: { pageNum, pageSize, userId } };
  }
  if (slot < 8) return { kind: 'portfolio', key: `portfolio:${user.id}`, variables: { id: user.id } };
  if (slot === 8) return { kind: 'stocks', key: 'stocks', variables: {} };
  const orderId = user.finalOrderIds[k % user.finalOrderIds.length]!;
  return { kind: 'cancel', key: `cancel:${orderId}`, variables: { id: orderId } };
}

/** The parts of an answer every target must agree on: data, and each error's message and code. */
export function normalise(text: string): string {
  const { data, errors } = JSON.parse(text) as {
    data?: unknown;
    errors?: Array<{ message: string; extensions?: { code?: unknown } }>;
  };
  return JSON.stringify({
    data: data ?? null,
    errors: errors?.map(({ message, extensions }) => ({ message, code: extensions?.code })),
  });
}

/** A subgraph's or gateway's answer, as text; throws on a transport failure or a non-JSON status. */
type Ask = (user: MixUser, request: MixRequest) => Promise<string>;

function gatewayAsk(plan: MixPlan, agent: Agent): Ask {
  return async (user, { kind, variables }) => {
    const body = JSON.stringify({ query: MIX_QUERIES[kind], variables });
    const response = await request(plan.url!, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: user.authorization },
      body,
      dispatcher: agent,
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}: ${text.slice(0, 300)}`);
    return text;
  };
}

interface GraphQLAnswer<T> {
  data?: T;
  errors?: Array<{ message: string; extensions?: { code?: unknown } }>;
}

const DIRECT = {
  listings:
    'query ($pageNum: Int, $pageSize: Int, $userId: ID) { listings(pageNum: $pageNum, pageSize: $pageSize, userId: $userId) { id price listingType user { id } } }',
  userNames:
    'query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on User { id name } } }',
  user: 'query ($id: ID!) { user(id: $id) { id name } }',
  account:
    'query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on User { credit holdings { stock { id } quantity } orders(pageSize: 10) { status total stock { id } } } } }',
  stockPrices:
    'query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Stock { id symbol lastPrice } } }',
  stocks: MIX_QUERIES.stocks,
  cancel: MIX_QUERIES.cancel,
};

/** The floor: the same subgraph calls the gateway's query plans make, made by the client itself. */
function directAsk(plan: MixPlan, agent: Agent): Ask {
  const urls = plan.subgraphs!;
  const post = async <T>(
    url: string,
    user: MixUser,
    query: string,
    variables: Record<string, unknown>,
  ): Promise<GraphQLAnswer<T>> => {
    const response = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-caller-token': user.callerToken },
      body: JSON.stringify({ query, variables }),
      dispatcher: agent,
    });
    const answer = (await response.body.json()) as GraphQLAnswer<T>;
    if (response.statusCode !== 200)
      throw new Error(`HTTP ${response.statusCode}: ${JSON.stringify(answer)}`);
    return answer;
  };
  const dataOf = <T>(answer: GraphQLAnswer<T>): T => {
    if (!answer.data || answer.errors) throw new Error(JSON.stringify(answer.errors ?? answer));
    return answer.data;
  };
  const entities = <T>(url: string, user: MixUser, query: string, typename: string, ids: string[]) =>
    ids.length === 0
      ? Promise.resolve([] as T[])
      : post<{ _entities: T[] }>(url, user, query, {
          representations: ids.map((id) => ({ __typename: typename, id })),
        }).then((answer) => dataOf(answer)._entities);

  return async (user, { kind, variables }) => {
    switch (kind) {
      case 'listings': {
        type Row = { id: string; price: number; listingType: string; user: { id: string } };
        const { listings } = dataOf(
          await post<{ listings: Row[] }>(urls.listings, user, DIRECT.listings, variables),
        );
        const owners = await entities<{ id: string; name: string }>(
          urls.users,
          user,
          DIRECT.userNames,
          'User',
          [...new Set(listings.map((row) => row.user.id))],
        );
        const byId = new Map(owners.map((owner) => [owner.id, owner]));
        return JSON.stringify({
          data: {
            listings: listings.map(({ id, price, listingType, user: owner }) => ({
              id,
              price,
              listingType,
              user: byId.get(owner.id),
            })),
          },
        });
      }
      case 'portfolio': {
        const found = dataOf(
          await post<{ user: { id: string; name: string } | null }>(urls.users, user, DIRECT.user, variables),
        ).user;
        if (!found) return JSON.stringify({ data: { user: null } });
        type Account = {
          credit: number;
          holdings: Array<{ stock: { id: string }; quantity: number }>;
          orders: Array<{ status: string; total: number; stock: { id: string } }>;
        };
        const [account] = await entities<Account>(urls.orders, user, DIRECT.account, 'User', [found.id]);
        const stockIds = [
          ...new Set([...account!.holdings, ...account!.orders].map(({ stock }) => stock.id)),
        ];
        const stocks = await entities<{ id: string; symbol: string; lastPrice: number | null }>(
          urls.stocks,
          user,
          DIRECT.stockPrices,
          'Stock',
          stockIds,
        );
        const byId = new Map(stocks.map((stock) => [stock.id, stock]));
        return JSON.stringify({
          data: {
            user: {
              name: found.name,
              credit: account!.credit,
              holdings: account!.holdings.map(({ stock, quantity }) => ({
                stock: { symbol: byId.get(stock.id)!.symbol, lastPrice: byId.get(stock.id)!.lastPrice },
                quantity,
              })),
              orders: account!.orders.map(({ status, total, stock }) => ({
                status,
                total,
                stock: { symbol: byId.get(stock.id)!.symbol },
              })),
            },
          },
        });
      }
      case 'stocks':
        return JSON.stringify({ data: dataOf(await post(urls.stocks, user, DIRECT.stocks, variables)) });
      case 'cancel': {
        const answer = await post(urls.orders, user, DIRECT.cancel, variables);
        return JSON.stringify({
          data: answer.data ?? null,
          errors: answer.errors?.map(({ message, extensions }) => ({
            message,
            extensions: { code: extensions?.code },
          })),
        });
      }
    }
  };
}

async function main(plan: MixPlan): Promise<MixResult> {
  const agent = new Agent({ connections: plan.connections, keepAliveTimeout: 30_000 });
  const ask = plan.kind === 'http' ? gatewayAsk(plan, agent) : directAsk(plan, agent);

  // Every distinct request of the mix, asked once by a connection that sends it: the answers.
  const expected = new Map<string, string>();
  const distinct = new Map<string, { c: number; request: MixRequest }>();
  const cycle = 10 * plan.listingsPages.length;
  for (let c = 0; c < plan.connections; c += 1) {
    for (let k = 0; k < cycle; k += 1) {
      const request = requestOf(plan, c, k);
      if (!distinct.has(request.key)) distinct.set(request.key, { c, request });
    }
  }
  const pending = [...distinct.values()];
  await Promise.all(
    Array.from({ length: plan.connections }, async () => {
      for (let next = pending.pop(); next; next = pending.pop()) {
        expected.set(next.request.key, await ask(plan.users[next.c % plan.users.length]!, next.request));
      }
    }),
  );
  writeFileSync(
    plan.answersPath,
    JSON.stringify(Object.fromEntries([...expected].map(([key, text]) => [key, normalise(text)]).sort())),
  );

  let failures = 0;
  let firstFailure: string | undefined;
  const drive = async (seconds: number) => {
    const latencies: Record<Kind, number[]> = { listings: [], portfolio: [], stocks: [], cancel: [] };
    const until = performance.now() + seconds * 1_000;
    await Promise.all(
      Array.from({ length: plan.connections }, async (_, c) => {
        const user = plan.users[c % plan.users.length]!;
        for (let k = 0; performance.now() < until; k += 1) {
          const request = requestOf(plan, c, k);
          const started = performance.now();
          try {
            const text = await ask(user, request);
            if (text !== expected.get(request.key)) {
              throw new Error(
                `${request.key}: ${text.slice(0, 300)} (expected ${expected.get(request.key)?.slice(0, 300)})`,
              );
            }
            latencies[request.kind].push(performance.now() - started);
          } catch (error) {
            failures += 1;
            firstFailure ??= String(error);
          }
        }
      }),
    );
    return latencies;
  };
  await drive(plan.warmupSeconds);
  failures = 0;
  firstFailure = undefined;
  const pid = plan.kind === 'http' ? plan.pid! : process.pid;
  const cpuBefore = cpuMsOf(pid);
  const partsBefore = servingCpu(plan.serving);
  const started = performance.now();
  const latencies = await drive(plan.seconds);
  const elapsed = (performance.now() - started) / 1_000;
  const all = Object.values(latencies).flat();
  const partsAfter = servingCpu(plan.serving);
  const parts = [...partsAfter]
    .map(([part, ms]) => ({ part, ms: (ms - (partsBefore.get(part) ?? 0)) / Math.max(1, all.length) }))
    .sort((a, b) => b.ms - a.ms);
  const cpuMs = cpuMsOf(pid) - cpuBefore;
  await agent.close();
  return {
    requests: all.length,
    requestsPerSecond: all.length / elapsed,
    p50Ms: percentile(all, 50),
    p99Ms: percentile(all, 99),
    byKind: Object.fromEntries(
      Object.entries(latencies).map(([kind, values]) => [
        kind,
        { requests: values.length, p50Ms: percentile(values, 50), p99Ms: percentile(values, 99) },
      ]),
    ),
    failures,
    firstFailure,
    cpuMsPerRequest: cpuMs / Math.max(1, all.length),
    peakRssMb: peakRssMbOf(pid),
    cpuByPart: parts,
  };
}

if (require.main === module) {
  const plan = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as MixPlan;
  main(plan).then(
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
