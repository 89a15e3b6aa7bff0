import { encodeCursor } from '@brokerage/graphql';
import { dropDatabase } from '@brokerage/postgres';
import { Client } from 'pg';
import type { ServiceProcess } from '../test/support/processes';
import { benchSecrets } from './security';
import { graphql, startBenchStack } from './stack';
import { median, quick, report, runStandalone, spawnBenchService, type Figure, type Ratio } from './support';

// Scenario: a deep page, through the gateway. One user's order history of 200,000 orders (and
// 1,000,000 listings of 1,000 owners), seeded straight into the databases; then the first page
// and the page at depth 10,000 (10 a page), read both ways: `pageNum`/`pageSize` (offset) and the
// cursor connection (keyset, with the cursor of the row before that page). p50 of sequential
// reads of each, and deep/first. Target for connections: deep <= 1.5x first.

const ORDERS = quick ? 3_000 : 200_000;
const LISTINGS = quick ? 5_000 : 1_000_000;
const OWNERS = quick ? 10 : 1_000;
const PAGE_SIZE = 10;
/** The page read as "deep", counted from 1. */
const DEEP_PAGE = quick ? 100 : 10_000;
const ROUNDS = quick ? 10 : 200;
const WARMUP_ROUNDS = quick ? 2 : 20;

interface List {
  name: string;
  url: string;
  headers: Record<string, string>;
  offset: (pageNum: number) => string;
  connection: (after: string | null) => string;
  /** The ids a page answer holds. */
  offsetIds: (data: unknown) => string[];
  connectionIds: (data: unknown) => string[];
  /** The cursor of the last row before the deep page. */
  deepCursor: string;
}

/** p50 in ms of `query` over ROUNDS sequential reads (after WARMUP_ROUNDS), each timed alone. */
async function timeQueries(
  url: string,
  headers: Record<string, string>,
  queries: Record<string, string>,
): Promise<Record<string, number>> {
  const samples: Record<string, number[]> = Object.fromEntries(
    Object.keys(queries).map((name) => [name, []]),
  );
  for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round += 1) {
    // Interleaved, so that whatever else the machine does falls on every query alike.
    for (const [name, query] of Object.entries(queries)) {
      const started = performance.now();
      await graphql(url, query, {}, headers);
      if (round >= WARMUP_ROUNDS) samples[name]!.push(performance.now() - started);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)]));
}

async function measure(list: List): Promise<{ figures: Figure[]; ratios: Ratio[] }> {
  // Both ways must answer the same deep page before either is timed.
  const offsetDeep = list.offsetIds(await graphql(list.url, list.offset(DEEP_PAGE), {}, list.headers));
  const connectionDeep = list.connectionIds(
    await graphql(list.url, list.connection(list.deepCursor), {}, list.headers),
  );
  if (offsetDeep.length !== PAGE_SIZE || offsetDeep.join() !== connectionDeep.join()) {
    throw new Error(`${list.name}: the deep pages differ: ${offsetDeep.join()} / ${connectionDeep.join()}`);
  }
  const p50 = await timeQueries(list.url, list.headers, {
    offsetFirst: list.offset(1),
    offsetDeep: list.offset(DEEP_PAGE),
    connectionFirst: list.connection(null),
    connectionDeep: list.connection(list.deepCursor),
  });
  return {
    figures: [
      { name: `${list.name}, offset: first page p50`, value: p50.offsetFirst!, unit: 'ms' },
      { name: `${list.name}, offset: page ${DEEP_PAGE} p50`, value: p50.offsetDeep!, unit: 'ms' },
      { name: `${list.name}, connection: first page p50`, value: p50.connectionFirst!, unit: 'ms' },
      { name: `${list.name}, connection: page ${DEEP_PAGE} p50`, value: p50.connectionDeep!, unit: 'ms' },
    ],
    ratios: [
      {
        name: `${list.name}, connection: deep / first (p50)`,
        value: p50.connectionDeep! / p50.connectionFirst!,
        target: '<= 1.5x',
      },
      { name: `${list.name}, offset: deep / first (p50)`, value: p50.offsetDeep! / p50.offsetFirst! },
    ],
  };
}

/** The (created_at, id) of the row that ends the page before DEEP_PAGE, as a cursor of `list`. */
async function cursorBeforeDeepPage(client: Client, list: string, sql: string): Promise<string> {
  const { rows } = await client.query<{ at: string; id: string }>(sql, [(DEEP_PAGE - 1) * PAGE_SIZE - 1]);
  if (!rows[0]) throw new Error(`${list}: fewer rows than the deep page needs`);
  return encodeCursor(list, { createdAt: rows[0].at, id: rows[0].id });
}

const CURSOR_AT = `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at`;

async function orderHistory(): Promise<{ figures: Figure[]; ratios: Ratio[] }> {
  const stack = await startBenchStack(`bench:deep:${Date.now().toString(36)}:`);
  try {
    const db = new Client({ connectionString: stack.ordersDatabaseUrl });
    await db.connect();
    let deepCursor: string;
    try {
      // One in ten is DENIED for 5 shares (the history rule hides it); created_at steps back a
      // second every three orders, so ties on created_at are broken by id.
      await db.query(
        `INSERT INTO orders (side, user_id, stock_id, quantity, price, total, status, message, created_at, updated_at)
         SELECT 'BUY', $1, '44891482026867833', q, 100, q * 100, s, '', t, t
           FROM generate_series(1, $2) AS n,
                LATERAL (SELECT CASE WHEN n % 10 = 0 THEN 5 ELSE 1 END AS q,
                                CASE WHEN n % 10 = 0 THEN 'DENIED' ELSE 'COMPLETED' END AS s,
                                now() - interval '1 hour' - (n / 3) * interval '1 second' AS t) AS v`,
        [stack.userId, ORDERS],
      );
      await db.query('ANALYZE orders');
      deepCursor = await cursorBeforeDeepPage(
        db,
        'orders',
        `SELECT ${CURSOR_AT}, id FROM orders WHERE user_id = ${Number(stack.userId)} AND status <> 'DENIED'
          ORDER BY created_at DESC, id DESC OFFSET $1 LIMIT 1`,
      );
    } finally {
      await db.end();
    }
    const ids = (field: string) => (data: unknown) =>
      ((data as Record<string, unknown>)[field] as Array<{ id: string }>).map(({ id }) => id);
    const edgeIds = (field: string) => (data: unknown) =>
      ((data as Record<string, { edges: Array<{ node: { id: string } }> }>)[field]!.edges ?? []).map(
        ({ node }) => node.id,
      );
    return await measure({
      name: `order history (${ORDERS.toLocaleString('en-US')})`,
      url: stack.url,
      headers: stack.asUser,
      offset: (pageNum) =>
        `{ orders(userId: "${stack.userId}", pageNum: ${pageNum}, pageSize: ${PAGE_SIZE}) { id status total createdAt } }`,
      connection: (after) =>
        `{ ordersConnection(userId: "${stack.userId}", first: ${PAGE_SIZE}${after ? `, after: "${after}"` : ''}) {
             edges { cursor node { id status total createdAt } } pageInfo { hasNextPage endCursor } } }`,
      offsetIds: ids('orders'),
      connectionIds: edgeIds('ordersConnection'),
      deepCursor,
    });
  } finally {
    await stack.stop();
  }
}

async function listings(): Promise<{ figures: Figure[]; ratios: Ratio[] }> {
  const suffix = Date.now().toString(36);
  const database = `postgres://postgres@127.0.0.1:5432/bench_deep_listings_${suffix}`;
  const secrets = benchSecrets();
  const production = { NODE_ENV: 'production', LOG_LEVEL: 'warn', ...secrets };
  const processes: ServiceProcess[] = [];
  try {
    // Only the listings subgraph answers these reads; the users subgraph is not asked (no owner
    // fields are selected), so nothing listens at its URL.
    const nowhere = 'http://127.0.0.1:9/graphql';
    const subgraph = await spawnBenchService('subgraphs/listings/src/index.ts', {
      ...production,
      DATABASE_URL: database,
      USERS_SUBGRAPH_URL: nowhere,
    });
    processes.push(subgraph);
    await subgraph.ready(60_000);
    const db = new Client({ connectionString: database });
    await db.connect();
    let deepCursor: string;
    try {
      await db.query(
        `INSERT INTO listings (user_id, listing_type, price, created_at, updated_at)
         SELECT 1 + n % $2, CASE WHEN n % 2 = 0 THEN 'RENT' ELSE 'SALE' END, 1000 + n % 997, t, t
           FROM generate_series(1, $1) AS n,
                LATERAL (SELECT now() - interval '1 hour' - (n / 3) * interval '1 second' AS t) AS v`,
        [LISTINGS, OWNERS],
      );
      await db.query('ANALYZE listings');
      deepCursor = await cursorBeforeDeepPage(
        db,
        'listings',
        `SELECT ${CURSOR_AT}, id FROM listings ORDER BY created_at DESC, id DESC OFFSET $1 LIMIT 1`,
      );
    } finally {
      await db.end();
    }
    const gateway = await spawnBenchService('gateway/src/index.ts', {
      ...production,
      RATE_LIMIT_READ_POINTS: '1000000000',
      // The run's own counters: user ids start at 1 in every run, and in `npm run dev` too.
      RATE_LIMIT_KEY_PREFIX: `bench:${Date.now().toString(36)}:ratelimit:`,
      SUBGRAPH_LISTINGS_URL: `http://127.0.0.1:${subgraph.port}/graphql`,
      SUBGRAPH_USERS_URL: nowhere,
      SUBGRAPH_STOCKS_URL: nowhere,
      SUBGRAPH_ORDERS_URL: nowhere,
    });
    processes.push(gateway);
    await gateway.ready(60_000);
    return await measure({
      name: `listings (${LISTINGS.toLocaleString('en-US')})`,
      url: `http://127.0.0.1:${gateway.port}/graphql`,
      headers: {},
      offset: (pageNum) =>
        `{ listings(pageNum: ${pageNum}, pageSize: ${PAGE_SIZE}) { id listingType price createdAt } }`,
      connection: (after) =>
        `{ listingsConnection(first: ${PAGE_SIZE}${after ? `, after: "${after}"` : ''}) {
             edges { cursor node { id listingType price createdAt } } pageInfo { hasNextPage endCursor } } }`,
      offsetIds: (data) => (data as { listings: Array<{ id: string }> }).listings.map(({ id }) => id),
      connectionIds: (data) =>
        (
          data as { listingsConnection: { edges: Array<{ node: { id: string } }> } }
        ).listingsConnection.edges.map(({ node }) => node.id),
      deepCursor,
    });
  } finally {
    await Promise.all(processes.map((service) => service.kill('SIGTERM')));
    await dropDatabase(database).catch(() => undefined);
  }
}

export async function run() {
  const history = await orderHistory();
  const listed = await listings();
  report(
    'deep-pages',
    [
      { name: 'page size', value: PAGE_SIZE, unit: '' },
      { name: 'deep page', value: DEEP_PAGE, unit: '' },
      ...history.figures,
      ...listed.figures,
    ],
    [...history.ratios, ...listed.ratios],
  );
}

if (require.main === module) runStandalone(run);
