import fc from 'fast-check';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { asAdmin, asUser } from '../../test/support/auth';
import { expectData, graphql, type GraphQLResponse } from '../../test/support/graphql';
import { startPlatformStack, type PlatformStack } from '../../test/support/platform-stack';

// Every answer to hostile input is one of these: a refusal the client can act on, never a crash.
const CLIENT_CODES = new Set([
  'BAD_USER_INPUT',
  'FORBIDDEN',
  'USER_NOT_FOUND',
  'STOCK_NOT_FOUND',
  'STOCK_EXISTS',
  'PRICE_UNAVAILABLE',
  'ORDER_NOT_FOUND',
  'ORDER_NOT_CANCELLABLE',
  'CLIENT_ORDER_ID_REUSED',
]);

const STOCK_ID = '44891482026867833';
// A price near the top of Money: any quantity over 1 overflows an exact total.
const PRICEY_STOCK_ID = '35425587644337450';
const PRICEY = 2 ** 52;
const RUNS = Number(process.env.PROPERTY_RUNS ?? 60);

const hostileString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\u202e\u0041',
    "'; DROP TABLE users; --",
    '<script>alert(1)</script>',
    '${jndi:ldap://x}',
    'a'.repeat(10_000),
    '😀'.repeat(101),
  ),
);
const hostileNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, -1, 0.5, 2 ** 31, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e308),
);
/** Any JSON at all, for a variable of the wrong type. */
const anyJson = fc.jsonValue({ maxDepth: 2 });
const hostileId = fc.oneof(
  fc.constantFrom(
    '0',
    '-1',
    '1e5',
    '0x10',
    ' 1',
    '1 ',
    '1.0',
    '99999999999999999999999',
    '9223372036854775808',
  ),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
  hostileString,
);
const mostlyValid = <T>(valid: fc.Arbitrary<T>, hostile: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { arbitrary: valid, weight: 2 },
    { arbitrary: hostile, weight: 3 },
    { arbitrary: anyJson, weight: 1 },
  );

/**
 * How a case reaches the gateway: over HTTP or graphql-ws, with its mutation as written, inside an
 * inline fragment or inside a named fragment. Every case picks one; each way must answer alike.
 */
interface Route {
  transport: 'http' | 'graphql-ws';
  shape: 'plain' | 'inline fragment' | 'fragment spread';
}
const anyRoute: fc.Arbitrary<Route> = fc.record({
  transport: fc.constantFrom('http', 'graphql-ws'),
  shape: fc.constantFrom('plain', 'inline fragment', 'fragment spread'),
});

/** The operation `head { selection }`, its selection shaped as the route says. */
function shaped(head: string, selection: string, shape: Route['shape']): string {
  if (shape === 'inline fragment') return `${head} { ... on Mutation { ${selection} } }`;
  if (shape === 'fragment spread') return `${head} { ...Sent } fragment Sent on Mutation { ${selection} }`;
  return `${head} { ${selection} }`;
}

/** The single result of an operation sent over graphql-ws; refusals before it ran are its errors. */
function overWebSocket(
  client: Client,
  query: string,
  variables: Record<string, unknown>,
): Promise<GraphQLResponse<Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    let result: GraphQLResponse<Record<string, unknown>> = {};
    client.subscribe<Record<string, unknown>>(
      { query, variables },
      {
        next: (value) => (result = value as GraphQLResponse<Record<string, unknown>>),
        error: (error) =>
          Array.isArray(error)
            ? resolve({ errors: error as GraphQLResponse<unknown>['errors'] })
            : reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
        complete: () => resolve(result),
      },
    );
  });
}

/** The answer is data for the mutation, or only coded client errors and no data. */
function expectCleanAnswer(body: GraphQLResponse<Record<string, unknown>>, field: string): boolean {
  if (!body.errors?.length) {
    expect(body.data?.[field]).toBeTruthy();
    return true;
  }
  for (const error of body.errors) {
    // The message is in the failure output when the code is not a client's.
    expect([...CLIENT_CODES].map((code) => `${code}`)).toContain(
      CLIENT_CODES.has(String(error.extensions?.code)) ? error.extensions?.code : error.message,
    );
  }
  expect(body.data?.[field] ?? null).toBeNull();
  return false;
}

describe('hostile input at every mutation', () => {
  let stack: PlatformStack;
  let url: string;
  let admin: Record<string, string>;
  let trader: { id: string; headers: Record<string, string> };
  const TRADER_CREDIT = 1_000_000;

  async function countOf(query: 'users' | 'listings'): Promise<number> {
    let total = 0;
    for (let pageNum = 1; ; pageNum += 1) {
      const page = await expectData<Record<string, unknown[]>>(
        url,
        `{ ${query}(pageNum: ${pageNum}, pageSize: 100) { id } }`,
      );
      total += page[query]!.length;
      if (page[query]!.length < 100) return total;
    }
  }

  // One graphql-ws connection per caller, opened on first use.
  const sockets = new Map<string, Client>();

  /** Sends `head { selection }` by the route: HTTP or graphql-ws, the selection as written or in a fragment. */
  function send(
    route: Route,
    head: string,
    selection: string,
    variables: Record<string, unknown>,
    headers: Record<string, string>,
  ): Promise<GraphQLResponse<Record<string, unknown>>> {
    const query = shaped(head, selection, route.shape);
    if (route.transport === 'http') return graphql(url, query, variables, headers);
    const key = JSON.stringify(headers);
    let client = sockets.get(key);
    if (!client) {
      client = createClient({
        url: url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        connectionParams: headers,
        retryAttempts: 0,
      });
      sockets.set(key, client);
    }
    return overWebSocket(client, query, variables);
  }

  beforeAll(async () => {
    // Budgets no property run can exhaust: rate limiting is tested on its own.
    stack = await startPlatformStack({
      gatewayEnv: { RATE_LIMIT_MUTATIONS: '1000000', RATE_LIMIT_READ_POINTS: '100000000' },
    });
    url = stack.gatewayUrl;
    admin = await asAdmin();
    const { createUser } = await expectData<{ createUser: { id: string } }>(
      url,
      `mutation { createUser(input: { name: "Trader", credit: ${TRADER_CREDIT} }) { id } }`,
      {},
      admin,
    );
    trader = { id: createUser.id, headers: await asUser(createUser.id) };
    await stack.listStock({ id: STOCK_ID, symbol: 'stock1', price: 7 });
    await stack.listStock({ id: PRICEY_STOCK_ID, symbol: 'pricey', price: PRICEY });
  });

  afterAll(async () => {
    await Promise.all([...sockets.values()].map((client) => client.dispose() as Promise<void>));
    await stack.stop();
  });

  it('createUser: a user is created exactly when the answer says so', async () => {
    const before = await countOf('users');
    let created = 0;
    await fc.assert(
      fc.asyncProperty(
        mostlyValid(fc.string({ minLength: 1, maxLength: 20 }), hostileString),
        mostlyValid(fc.integer({ min: 0, max: 1e12 }), hostileNumber),
        anyRoute,
        async (name, credit, route) => {
          const body = await send(
            route,
            'mutation ($input: CreateUserInput!)',
            'createUser(input: $input) { id credit }',
            { input: { name, credit } },
            admin,
          );
          if (expectCleanAnswer(body, 'createUser')) created += 1;
        },
      ),
      { numRuns: RUNS },
    );
    expect(await countOf('users')).toBe(before + created);
  });

  it('createListing: a listing is created exactly when the answer says so', async () => {
    const before = await countOf('listings');
    let created = 0;
    await fc.assert(
      fc.asyncProperty(
        mostlyValid(fc.constant(trader.id), hostileId),
        mostlyValid(fc.constantFrom('RENT', 'SALE'), hostileString),
        mostlyValid(fc.integer({ min: 1, max: 1e12 }), hostileNumber),
        anyRoute,
        async (userId, listingType, price, route) => {
          const body = await send(
            route,
            'mutation ($input: CreateListingInput!)',
            'createListing(input: $input) { id }',
            { input: { userId, listingType, price } },
            admin,
          );
          if (expectCleanAnswer(body, 'createListing')) created += 1;
        },
      ),
      { numRuns: RUNS },
    );
    expect(await countOf('listings')).toBe(before + created);
  });

  it('createStock: only well-formed new stocks are listed', async () => {
    const { stocks: before } = await expectData<{ stocks: unknown[] }>(url, `{ stocks { id } }`);
    let created = 0;
    await fc.assert(
      fc.asyncProperty(
        mostlyValid(fc.bigInt({ min: 1n, max: 10n ** 19n }).map(String), hostileId),
        mostlyValid(fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/), hostileString),
        mostlyValid(fc.string({ minLength: 1, maxLength: 30 }), hostileString),
        anyRoute,
        async (id, symbol, name, route) => {
          const body = await send(
            route,
            'mutation ($input: CreateStockInput!)',
            'createStock(input: $input) { id }',
            { input: { id, symbol, name } },
            admin,
          );
          if (expectCleanAnswer(body, 'createStock')) created += 1;
        },
      ),
      { numRuns: RUNS },
    );
    const { stocks: after } = await expectData<{ stocks: unknown[] }>(url, `{ stocks { id } }`);
    expect(after.length).toBe(before.length + created);
  });

  it('buyStock, sellStock and cancelOrder: credit and shares are conserved whatever is sent', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('buyStock', 'sellStock', 'cancelOrder'),
        mostlyValid(fc.constant(trader.id), hostileId),
        mostlyValid(fc.constantFrom(STOCK_ID, PRICEY_STOCK_ID), hostileId),
        mostlyValid(fc.integer({ min: 1, max: 2_000 }), hostileNumber),
        mostlyValid(fc.integer({ min: 1, max: 200 }).map(String), hostileId),
        // A few ids, so that some orders are sent again and some reuse an id for another order.
        fc.option(mostlyValid(fc.constantFrom('a', 'b', 'c'), hostileString), { nil: undefined }),
        anyRoute,
        async (mutation, userId, stockId, quantity, orderId, clientOrderId, route) => {
          const body =
            mutation === 'cancelOrder'
              ? await send(
                  route,
                  'mutation ($id: ID!)',
                  'cancelOrder(id: $id) { status }',
                  { id: orderId },
                  trader.headers,
                )
              : await send(
                  route,
                  `mutation ($input: ${mutation === 'buyStock' ? 'BuyStockInput' : 'SellStockInput'}!)`,
                  `${mutation}(input: $input) { status order { total } }`,
                  { input: { userId, stockId, quantity, clientOrderId } },
                  trader.headers,
                );
          expectCleanAnswer(body, mutation);
        },
      ),
      { numRuns: RUNS * 2 },
    );
    // With no verifier running, every accepted buy still holds its reservation: the credit spent
    // is exactly what the open (and only the open) buys reserved, and nothing was ever sold.
    type Order = { side: string; status: string; total: number };
    const orders: Order[] = [];
    let user: { credit: number; holdings: unknown[]; orders: Order[] };
    for (let pageNum = 1; ; pageNum += 1) {
      ({ user } = await expectData<{ user: typeof user }>(
        url,
        `query ($id: ID!, $pageNum: Int) {
          user(id: $id) { credit holdings { quantity } orders(pageNum: $pageNum, pageSize: 100) { side status total } }
        }`,
        { id: trader.id, pageNum },
        trader.headers,
      ));
      orders.push(...user.orders);
      if (user.orders.length < 100) break;
    }
    const reserved = orders
      .filter(({ side, status }) => side === 'BUY' && status === 'IN_PROGRESS')
      .reduce((sum, { total }) => sum + total, 0);
    expect(user.credit).toBeGreaterThanOrEqual(0);
    expect(user.credit + reserved).toBe(TRADER_CREDIT);
    expect(user.holdings).toEqual([]);
    expect(orders.filter(({ side, status }) => side === 'SELL' && status !== 'DENIED')).toEqual([]);
  });
});
