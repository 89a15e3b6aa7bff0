import {
  CALLER_TOKEN_HEADER,
  InternalTokens,
  signUserToken,
  userTokenSigningSettings,
} from '@brokerage/auth';
import { loadConfig } from '@brokerage/service';
import { asAdmin, asUser, tokenFor } from '../../test/support/auth';
import { errorCodes, expectData, type GraphQLResponse } from '../../test/support/graphql';
import { startPlatformStack, type PlatformStack } from '../../test/support/platform-stack';
import { subscribe } from '../../test/support/subscriptions';
import { gatewayConfigSchema } from '../src/config';
import { start as startGateway, type RunningGateway } from '../src/server';

const STOCK_ID = '44891482026867833';
// Above what Alice and Bob send in the other tests of this file; Carol and Dave spend it all.
const RATE_LIMIT = 12;

const BUY = `mutation ($input: BuyStockInput!) { buyStock(input: $input) { status order { id } } }`;
const SELL = `mutation ($input: SellStockInput!) { sellStock(input: $input) { status } }`;
const CANCEL = `mutation ($id: ID!) { cancelOrder(id: $id) { status } }`;
const CREATE_USER = `mutation ($name: String!) { createUser(input: { name: $name, credit: 100000 }) { id } }`;
const CREATE_LISTING = `mutation ($userId: ID!) { createListing(input: { userId: $userId, listingType: RENT, price: 100 }) { id } }`;
const CREATE_STOCK = `mutation { createStock(input: { id: "9", symbol: "nine", name: "Nine" }) { id } }`;

/** Posts with full control of the headers, for what the test helpers hide: HTTP status and headers. */
async function post(url: string, body: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    json: () => JSON.parse(text) as GraphQLResponse<Record<string, unknown>>,
  };
}

describe('who may do what, through the gateway and around it', () => {
  let stack: PlatformStack;
  let url: string;
  let admin: Record<string, string>;
  let alice: { id: string; headers: Record<string, string> };
  let bob: { id: string; headers: Record<string, string> };

  async function newUser(name: string) {
    const { createUser } = await expectData<{ createUser: { id: string } }>(
      url,
      CREATE_USER,
      { name },
      admin,
    );
    return { id: createUser.id, headers: await asUser(createUser.id) };
  }

  async function orderCount(userId: string): Promise<number> {
    const { orders } = await expectData<{ orders: unknown[] }>(
      url,
      `query ($userId: ID) { orders(userId: $userId, pageSize: 100) { id } }`,
      { userId },
      admin,
    );
    return orders.length;
  }

  beforeAll(async () => {
    stack = await startPlatformStack({ gatewayEnv: { RATE_LIMIT_MUTATIONS: String(RATE_LIMIT) } });
    url = stack.gatewayUrl;
    admin = await asAdmin();
    [alice, bob] = [await newUser('Alice'), await newUser('Bob')];
    await stack.listStock({ id: STOCK_ID, symbol: 'stock1', price: 100 });
  });

  afterAll(() => stack.stop());

  describe('authentication at the gateway', () => {
    it('lets anonymous callers read public data', async () => {
      const { users } = await expectData<{ users: Array<{ name: string }> }>(url, `{ users { name } }`);
      expect(users.map(({ name }) => name)).toEqual(expect.arrayContaining(['Alice', 'Bob']));
    });

    it.each([
      [
        'signed with another secret',
        async () => signUserToken({ ...userTokenSigningSettings({}), secret: 'x'.repeat(40) }, '1'),
      ],
      ['expired', async () => tokenFor('1', { expiresIn: Math.floor(Date.now() / 1000) - 60 })],
      [
        'for another audience',
        async () => signUserToken({ ...userTokenSigningSettings({}), audience: 'elsewhere' }, '1'),
      ],
      ['not a JWT', async () => 'not-a-token'],
    ])('refuses a token %s with HTTP 401 and UNAUTHENTICATED, running nothing', async (_case, token) => {
      const response = await post(url, JSON.stringify({ query: '{ users { id } }' }), {
        authorization: `Bearer ${await token()}`,
      });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(response.json().errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    });
  });

  describe('authorization in the subgraphs', () => {
    it('lets only admins open accounts and list stocks', async () => {
      expect(await errorCodes(url, CREATE_USER, { name: 'Mallory' })).toEqual(['UNAUTHENTICATED']);
      expect(await errorCodes(url, CREATE_USER, { name: 'Mallory' }, alice.headers)).toEqual(['FORBIDDEN']);
      expect(await errorCodes(url, CREATE_STOCK, {}, alice.headers)).toEqual(['FORBIDDEN']);
      const { users } = await expectData<{ users: Array<{ name: string }> }>(
        url,
        `{ users(pageSize: 100) { name } }`,
      );
      expect(users.map(({ name }) => name)).not.toContain('Mallory');
    });

    it('lets a user buy and sell only for themselves, and writes nothing when refused', async () => {
      const input = { userId: bob.id, stockId: STOCK_ID, quantity: 1 };
      expect(await errorCodes(url, BUY, { input })).toEqual(['UNAUTHENTICATED']);
      expect(await errorCodes(url, BUY, { input }, alice.headers)).toEqual(['FORBIDDEN']);
      expect(await errorCodes(url, SELL, { input }, alice.headers)).toEqual(['FORBIDDEN']);
      expect(await orderCount(bob.id)).toBe(0);
      const { buyStock } = await expectData<{ buyStock: { status: string } }>(
        url,
        BUY,
        { input },
        bob.headers,
      );
      expect(buyStock.status).toBe('IN_PROGRESS');
      expect(await orderCount(bob.id)).toBe(1);
    });

    it("refuses to show or cancel another user's order, and the order stays as it was", async () => {
      const { buyStock } = await expectData<{ buyStock: { order: { id: string } } }>(
        url,
        BUY,
        { input: { userId: bob.id, stockId: STOCK_ID, quantity: 2 } },
        bob.headers,
      );
      const id = buyStock.order.id;
      const ORDER = `query ($id: ID!) { order(id: $id) { status } }`;
      expect(await errorCodes(url, CANCEL, { id }, alice.headers)).toEqual(['FORBIDDEN']);
      expect(await errorCodes(url, ORDER, { id }, alice.headers)).toEqual(['FORBIDDEN']);
      expect(await errorCodes(url, ORDER, { id })).toEqual(['UNAUTHENTICATED']);
      const { order } = await expectData<{ order: { status: string } }>(url, ORDER, { id }, bob.headers);
      expect(order.status).toBe('IN_PROGRESS');
    });

    it("shows a user's credit, holdings and orders to that user and admins only", async () => {
      const PRIVATE = `query ($id: ID!) { user(id: $id) { credit holdings { quantity } orders { id } } }`;
      for (const selection of ['credit', 'holdings { quantity }', 'orders { id }']) {
        const query = `query ($id: ID!) { user(id: $id) { ${selection} } }`;
        expect(await errorCodes(url, query, { id: bob.id }, alice.headers)).toEqual(['FORBIDDEN']);
        expect(await errorCodes(url, query, { id: bob.id })).toEqual(['UNAUTHENTICATED']);
      }
      expect(await errorCodes(url, `{ orders { id } }`, {}, alice.headers)).toEqual(['FORBIDDEN']);
      const own = await expectData<{ user: { credit: number } }>(url, PRIVATE, { id: bob.id }, bob.headers);
      expect(own.user.credit).toBeGreaterThan(0);
      await expectData(url, PRIVATE, { id: bob.id }, admin);
    });

    it('lets a user list properties only for themselves', async () => {
      expect(await errorCodes(url, CREATE_LISTING, { userId: bob.id }, alice.headers)).toEqual(['FORBIDDEN']);
      await expectData(url, CREATE_LISTING, { userId: alice.id }, alice.headers);
    });

    it("refuses a subscription to another user's order, and closes a socket with a bad token", async () => {
      const { buyStock } = await expectData<{ buyStock: { order: { id: string } } }>(
        url,
        BUY,
        { input: { userId: bob.id, stockId: STOCK_ID, quantity: 1 } },
        bob.headers,
      );
      const WATCH = `subscription ($id: ID!) { orderStatus(orderId: $id) { status } }`;
      const snooping = subscribe(url, WATCH, { id: buyStock.order.id }, alice.headers);
      await snooping.completed;
      expect(snooping.results.at(-1)?.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      await snooping.dispose();

      const forged = subscribe(url, WATCH, { id: buyStock.order.id }, { authorization: 'Bearer a.b.c' });
      await expect(forged.completed).rejects.toThrow(/4403|Forbidden/);
      await forged.dispose();

      const owner = subscribe<{ orderStatus: { status: string } }>(
        url,
        WATCH,
        { id: buyStock.order.id },
        bob.headers,
      );
      await owner.received(1);
      expect(owner.results[0]?.data?.orderStatus.status).toBe('IN_PROGRESS');
      await owner.dispose();
    });
  });

  describe('subgraphs reachable only through the gateway', () => {
    const subgraphs = () => ({
      users: stack.usersUrl,
      listings: stack.listingsUrl,
      stocks: stack.stocksUrl,
      orders: stack.ordersUrl,
    });

    it('refuses a direct call with no caller token, a forged one, or a client token instead', async () => {
      const forged = await new InternalTokens('y'.repeat(40), 'gateway').sign({ kind: 'anonymous' });
      const clientToken = await tokenFor(alice.id, { admin: true });
      for (const [name, subgraphUrl] of Object.entries(subgraphs())) {
        const attempts: Array<Record<string, string>> = [
          {},
          { [CALLER_TOKEN_HEADER]: forged },
          { [CALLER_TOKEN_HEADER]: clientToken },
          { authorization: `Bearer ${clientToken}` },
        ];
        for (const headers of attempts) {
          const response = await post(
            subgraphUrl,
            JSON.stringify({ query: '{ _service { sdl } }' }),
            headers,
          );
          expect({ name, status: response.status }).toEqual({ name, status: 401 });
          expect(response.json().errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
        }
      }
    });

    it('lets only the users service open trading accounts, even for a caller the gateway vouches for', async () => {
      const open = JSON.stringify({
        query: `mutation { openAccount(userId: "424242", cash: 5) { id } }`,
      });
      // A caller token signed as the gateway signs it: an admin, still not the users service.
      const secret = loadConfig(gatewayConfigSchema, stack.gatewayEnv).INTERNAL_AUTH_SECRET;
      const asGatewayAdmin = await new InternalTokens(secret, 'gateway').sign({
        kind: 'user',
        userId: alice.id,
        admin: true,
      });
      const refused = await post(stack.ordersUrl, open, { [CALLER_TOKEN_HEADER]: asGatewayAdmin });
      expect(refused.json().errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const usersService = await new InternalTokens(secret, 'users').signAsService();
      const done = await post(stack.ordersUrl, open, { [CALLER_TOKEN_HEADER]: usersService });
      expect(done.json()).toEqual({ data: { openAccount: { id: '424242' } } });
    });
  });

  describe('rate limiting', () => {
    let replica: RunningGateway;
    beforeAll(async () => {
      replica = await startGateway(loadConfig(gatewayConfigSchema, stack.gatewayEnv));
    });
    afterAll(() => replica.stop());

    it('refuses mutations past the limit with RATE_LIMITED and a wait, counted across gateway replicas', async () => {
      const carol = await newUser('Carol');
      const listing = JSON.stringify({ query: CREATE_LISTING, variables: { userId: carol.id } });
      // Spread over two replicas: the budget is the caller's, wherever the requests land.
      for (let i = 0; i < RATE_LIMIT; i += 1) {
        const response = await post(i % 2 === 0 ? url : replica.url, listing, carol.headers);
        expect(response.json().errors).toBeUndefined();
      }
      for (const target of [url, replica.url]) {
        const response = await post(target, listing, carol.headers);
        expect(response.status).toBe(429);
        const retryAfter = Number(response.headers.get('retry-after'));
        expect(retryAfter).toBeGreaterThan(0);
        expect(retryAfter).toBeLessThanOrEqual(60);
        const error = response.json().errors?.[0];
        expect(error?.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: retryAfter });
      }
      const { listings } = await expectData<{ listings: unknown[] }>(
        url,
        `query ($userId: ID) { listings(userId: $userId, pageSize: 100) { id } }`,
        { userId: carol.id },
      );
      expect(listings).toHaveLength(RATE_LIMIT);
      // Reads are not limited, and another user has a budget of their own.
      await expectData(url, `{ users { id } }`, {}, carol.headers);
      await expectData(url, CREATE_LISTING, { userId: alice.id }, alice.headers);
    });

    it('counts each mutation of an operation, so aliases cannot batch past the limit', async () => {
      const dave = await newUser('Dave');
      const many = `mutation ($userId: ID!) { ${Array.from(
        { length: RATE_LIMIT + 1 },
        (_, i) => `l${i}: createListing(input: { userId: $userId, listingType: RENT, price: 1 }) { id }`,
      ).join(' ')} }`;
      expect(await errorCodes(url, many, { userId: dave.id }, dave.headers)).toEqual(['RATE_LIMITED']);
    });
  });
});
