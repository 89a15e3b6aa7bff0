import { createDataSource, openDatabase } from '@brokerage/postgres';
import { createRedis } from '@brokerage/redis';
import { orderStatusEventSchema, type OrderStatusEvent } from '@brokerage/orders-contract';
import { Client } from 'pg';
import { asAdmin, asUser } from '../../../test/support/auth';
import * as api from '../../../test/support/graphql';
import { graphql } from '../../../test/support/graphql';
import { startPlatformStack, type PlatformStack } from '../../../test/support/platform-stack';
import { eventually } from '../../../test/support/price-series';
import { testLogger, testRedisUrl } from '../../../test/support/services';
import { publishVerificationOutcome } from '../../../test/support/verification';
import { ordersDatabase } from '../src/db';
import { OrderTransitions } from '../src/db/order-transitions';

const STOCK_ID = '44891482026867833';
const UNPRICED_STOCK_ID = '35425587644337450';
const PRICE = 100;
const STALL_LIMIT_MS = 3_000;

const Messages = {
  denied: 'Deny: Not enough credit',
  inProgress: 'In Progress: Credit check passed. User verification in progress...',
  completed: 'Success: Buy order complete.',
  failed: 'Failure: User verification unsuccessful.',
  sharesDenied: 'Deny: Not enough shares',
  cancelled: 'Cancelled: Order cancelled by user.',
};

interface OrderResult {
  status: string;
  message: string;
  order: { id: string; status: string; total: number; price: number; quantity: number };
}

const BUY = `mutation ($input: BuyStockInput!) {
  buyStock(input: $input) { status message order { id status total price quantity } }
}`;
const SELL = `mutation ($input: SellStockInput!) {
  sellStock(input: $input) { status message order { id status total price quantity } }
}`;
const CANCEL = `mutation ($id: ID!) { cancelOrder(id: $id) { status message order { id status } } }`;
const ORDER = `query ($id: ID!) { order(id: $id) { id status message side quantity total user { id name } stock { id symbol } } }`;

describe('orders through the gateway, with the verifier and the verification API', () => {
  let stack: PlatformStack;
  let url: string;
  // How the verification API stand-in answers each user; by default quickly and yes.
  const behaviour = new Map<string, { delayMs: number; verified: boolean }>();
  // Users trade for themselves below; everything else (opening accounts, listing stocks, reading
  // orders and credit) is the back office's. Who may do what is tested in authorization.int.test.ts.
  let admin: Record<string, string>;
  const expectData = <T>(target: string, query: string, variables: Record<string, unknown> = {}) =>
    api.expectData<T>(target, query, variables, admin);
  const errorCodes = (target: string, query: string, variables: Record<string, unknown> = {}) =>
    api.errorCodes(target, query, variables, admin);

  beforeAll(async () => {
    admin = await asAdmin();
    stack = await startPlatformStack({
      verification: {
        stallLimitMs: STALL_LIMIT_MS,
        decide: ({ userId }) => behaviour.get(userId) ?? { delayMs: 100, verified: true },
      },
    });
    url = stack.gatewayUrl;
    // One trade at PRICE: the price the orders are checked at.
    await stack.listStock({ id: STOCK_ID, symbol: 'stock1', name: 'Stock One', price: PRICE });
    await stack.listStock({ id: UNPRICED_STOCK_ID, symbol: 'stock2', name: 'Stock Two' });
  });

  afterAll(() => stack.stop());

  async function createUser(credit: number, name = 'Trader'): Promise<string> {
    const data = await expectData<{ createUser: { id: string } }>(
      url,
      `mutation ($credit: Money) { createUser(input: { name: "${name}", credit: $credit }) { id } }`,
      { credit },
    );
    return data.createUser.id;
  }

  const credit = async (userId: string) =>
    (
      await expectData<{ user: { credit: number } }>(url, `query ($id: ID!) { user(id: $id) { credit } }`, {
        id: userId,
      })
    ).user.credit;
  const holdings = async (userId: string) =>
    (
      await expectData<{ user: { holdings: Array<{ quantity: number; stock: { symbol: string } }> } }>(
        url,
        `query ($id: ID!) { user(id: $id) { holdings { quantity stock { symbol } } } }`,
        { id: userId },
      )
    ).user.holdings;
  const buy = async (userId: string, quantity: number, stockId = STOCK_ID) =>
    (
      await api.expectData<{ buyStock: OrderResult }>(
        url,
        BUY,
        { input: { userId, stockId, quantity } },
        await asUser(userId),
      )
    ).buyStock;
  const sell = async (userId: string, quantity: number) =>
    (
      await api.expectData<{ sellStock: OrderResult }>(
        url,
        SELL,
        { input: { userId, stockId: STOCK_ID, quantity } },
        await asUser(userId),
      )
    ).sellStock;
  const finalOrder = (orderId: string) =>
    eventually(
      async () =>
        (await expectData<{ order: { status: string; message: string } }>(url, ORDER, { id: orderId })).order,
      (order) => order.status !== 'IN_PROGRESS',
      20_000,
    );

  it('denies a buy beyond the credit at once, saves it, and moves no credit', async () => {
    const userId = await createUser(1_000);
    const result = await buy(userId, 11);
    expect(result).toMatchObject({
      status: 'DENIED',
      message: Messages.denied,
      order: { status: 'DENIED', total: 1_100, price: PRICE },
    });
    const { order } = await expectData<{ order: { status: string } }>(url, ORDER, { id: result.order.id });
    expect(order.status).toBe('DENIED');
    expect(await credit(userId)).toBe(1_000);
  });

  it('answers a buy at once with the credit reserved, then completes it when the user is verified', async () => {
    const userId = await createUser(1_000);
    const started = Date.now();
    const result = await buy(userId, 4);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(result).toMatchObject({
      status: 'IN_PROGRESS',
      message: Messages.inProgress,
      order: { total: 400 },
    });
    expect(await credit(userId)).toBe(600);

    const order = await finalOrder(result.order.id);
    expect(order).toMatchObject({ status: 'COMPLETED', message: Messages.completed });
    expect(await credit(userId)).toBe(600);
    expect(await holdings(userId)).toEqual([{ quantity: 4, stock: { symbol: 'stock1' } }]);
    const joined = await expectData<{ order: { user: { id: string }; stock: { symbol: string } } }>(
      url,
      ORDER,
      {
        id: result.order.id,
      },
    );
    expect(joined.order).toMatchObject({ user: { id: userId }, stock: { symbol: 'stock1' } });
  });

  it('fails a buy the verification API rejects, and returns the credit', async () => {
    const userId = await createUser(1_000);
    behaviour.set(userId, { delayMs: 100, verified: false });
    const result = await buy(userId, 5);
    expect(result.status).toBe('IN_PROGRESS');
    expect(await finalOrder(result.order.id)).toMatchObject({ status: 'FAILED', message: Messages.failed });
    // Released in the same transaction that failed the order.
    expect(await credit(userId)).toBe(1_000);
    expect(await holdings(userId)).toEqual([]);
  });

  it('announces each status change once, after the cash it moved has committed with it', async () => {
    const userId = await createUser(1_000);
    behaviour.set(userId, { delayMs: 60_000, verified: true });
    const result = await buy(userId, 5);
    const listener = createRedis({ url: testRedisUrl, keyPrefix: '', logger: testLogger('listener') });
    try {
      const events: OrderStatusEvent[] = [];
      const creditWhenHeard: number[] = [];
      listener.on('message', (_channel: string, message: string) => {
        const event = orderStatusEventSchema.parse(JSON.parse(message));
        // The outbox may announce IN_PROGRESS only now, after the listener subscribed.
        if (event.status === 'IN_PROGRESS') return;
        events.push(event);
        // What a client that heard this event would read as its credit.
        void credit(userId).then((value) => (creditWhenHeard[events.indexOf(event)] = value));
      });
      await listener.subscribe(`${stack.statusChannelPrefix}${result.order.id}`);
      await publishVerificationOutcome(stack.topics.verificationOutcomes, result.order.id, 'REJECTED');
      await eventually(
        async () => creditWhenHeard.filter((value) => value !== undefined).length,
        (heard) => heard === 1,
        10_000,
      );
      // Time for a second announcement, if there were one.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(events.map(({ status }) => status)).toEqual(['FAILED']);
      expect(creditWhenHeard).toEqual([1_000]);
      // It carries the order exactly as the API renders it.
      const { order } = await expectData<{ order: Record<string, unknown> }>(
        url,
        `query ($id: ID!) { order(id: $id) { id side quantity price total status message createdAt updatedAt clientOrderId } }`,
        { id: result.order.id },
      );
      expect(events[0]!.order).toEqual(order);
    } finally {
      await listener.quit();
    }
  });

  it('fails a buy whose verification stalls past the limit, and returns the credit', async () => {
    const userId = await createUser(1_000);
    behaviour.set(userId, { delayMs: 30_000, verified: true });
    const result = await buy(userId, 2);
    const started = Date.now();
    expect(await finalOrder(result.order.id)).toMatchObject({ status: 'FAILED', message: Messages.failed });
    // Abandoned at the stall limit, not when the API would finally have answered.
    expect(Date.now() - started).toBeGreaterThanOrEqual(STALL_LIMIT_MS - 200);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await credit(userId)).toBe(1_000);
  });

  it('lets exactly as many of 50 concurrent buys through as the credit covers, never going negative', async () => {
    const userId = await createUser(10_000);
    // The API never answers in time: each order stalls and fails, releasing its credit.
    behaviour.set(userId, { delayMs: 60_000, verified: true });
    const results = await Promise.all(Array.from({ length: 50 }, () => buy(userId, 3)));
    const passed = results.filter(({ status }) => status === 'IN_PROGRESS');
    expect(passed).toHaveLength(33); // 33 x 300 = 9,900 <= 10,000 < 34 x 300
    expect(results.filter(({ status }) => status === 'DENIED')).toHaveLength(17);
    expect(passed.reduce((sum, { order }) => sum + order.total, 0)).toBe(9_900);
    for (const { order } of passed) await finalOrder(order.id);
    expect(await credit(userId)).toBe(10_000);
  });

  it('sells shares the user holds, credits the proceeds, and denies selling more than held', async () => {
    const userId = await createUser(1_000);
    const bought = await buy(userId, 5);
    await finalOrder(bought.order.id);
    expect(await credit(userId)).toBe(500);

    const tooMany = await sell(userId, 6);
    expect(tooMany).toMatchObject({ status: 'DENIED', message: Messages.sharesDenied });
    const sold = await sell(userId, 3);
    expect(sold.status).toBe('IN_PROGRESS');
    expect(await finalOrder(sold.order.id)).toMatchObject({
      status: 'COMPLETED',
      message: 'Success: Sell order complete.',
    });
    expect(await credit(userId)).toBe(800);
    expect(await holdings(userId)).toEqual([{ quantity: 2, stock: { symbol: 'stock1' } }]);
  });

  it('moves a holding by both a buy and a sell finished in the same batch of outcomes', async () => {
    const userId = await createUser(10_000);
    await finalOrder((await buy(userId, 5)).order.id);
    // Both stay IN_PROGRESS until the batch below finishes them together, as a batch of
    // verification outcomes from Kafka can.
    behaviour.set(userId, { delayMs: 60_000, verified: true });
    const sold = await sell(userId, 2);
    const bought = await buy(userId, 4);
    expect([sold.status, bought.status]).toEqual(['IN_PROGRESS', 'IN_PROGRESS']);

    const dataSource = await openDatabase(
      createDataSource({ url: stack.databaseUrls.orders, ...ordersDatabase, logger: testLogger('db') }),
      stack.databaseUrls.orders,
    );
    try {
      const finished = await new OrderTransitions(dataSource, 60_000, 1_000_000).finishMany([
        { orderId: bought.order.id, status: 'COMPLETED', trace: null },
        { orderId: sold.order.id, status: 'COMPLETED', trace: null },
      ]);
      expect(finished.map(({ status }) => status)).toEqual(['COMPLETED', 'COMPLETED']);
      const [holding] = await dataSource.query<Array<{ quantity: string; reserved: string }>>(
        'SELECT quantity::text, reserved::text FROM holdings WHERE user_id = $1 AND stock_id = $2',
        [userId, STOCK_ID],
      );
      // 5 held, 2 sold, 4 bought; the sell's reservation is given back.
      expect(holding).toEqual({ quantity: '7', reserved: '0' });
    } finally {
      await dataSource.destroy();
    }
    expect(await holdings(userId)).toEqual([{ quantity: 7, stock: { symbol: 'stock1' } }]);
  });

  it('cancels an IN_PROGRESS buy, returns the credit, and ignores the outcome that arrives later', async () => {
    const userId = await createUser(1_000);
    behaviour.set(userId, { delayMs: 60_000, verified: true });
    const result = await buy(userId, 5);
    const cancelled = (await expectData<{ cancelOrder: OrderResult }>(url, CANCEL, { id: result.order.id }))
      .cancelOrder;
    expect(cancelled).toMatchObject({ status: 'CANCELLED', message: Messages.cancelled });
    // Released in the same transaction that cancelled the order.
    expect(await credit(userId)).toBe(1_000);

    // A late approval for the cancelled order, as the verifier would publish it.
    await publishVerificationOutcome(stack.topics.verificationOutcomes, result.order.id, 'APPROVED');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const { order } = await expectData<{ order: { status: string } }>(url, ORDER, { id: result.order.id });
    expect(order.status).toBe('CANCELLED');
    expect(await holdings(userId)).toEqual([]);
    expect(await credit(userId)).toBe(1_000);

    expect(await errorCodes(url, CANCEL, { id: result.order.id })).toEqual(['ORDER_NOT_CANCELLABLE']);
    expect(await errorCodes(url, CANCEL, { id: '987654321' })).toEqual(['ORDER_NOT_FOUND']);
  });

  describe('sent again with the same clientOrderId', () => {
    type Side = 'buy' | 'sell';
    const MUTATION = { buy: BUY, sell: SELL };
    const place = async (side: Side, userId: string, quantity: number, clientOrderId: string) => {
      const data = await api.expectData<Record<string, OrderResult>>(
        url,
        MUTATION[side],
        { input: { userId, stockId: STOCK_ID, quantity, clientOrderId } },
        await asUser(userId),
      );
      return data[side === 'buy' ? 'buyStock' : 'sellStock']!;
    };
    const placeCodes = async (side: Side, userId: string, quantity: number, clientOrderId: string) =>
      api.errorCodes(
        url,
        MUTATION[side],
        { input: { userId, stockId: STOCK_ID, quantity, clientOrderId } },
        await asUser(userId),
      );
    const orderIdsOf = async (userId: string) =>
      (
        await expectData<{ orders: Array<{ id: string }> }>(
          url,
          `query ($userId: ID!) { orders(userId: $userId, pageSize: 50) { id } }`,
          { userId },
        )
      ).orders.map(({ id }) => id);

    it('places a buy once and reserves its credit once, answering the retry with the same order', async () => {
      const userId = await createUser(1_000);
      behaviour.set(userId, { delayMs: 60_000, verified: true });
      const first = await place('buy', userId, 4, 'retry-1');
      const again = await place('buy', userId, 4, 'retry-1');
      expect(first).toMatchObject({ status: 'IN_PROGRESS', order: { total: 400 } });
      expect(again).toEqual(first);
      expect(await orderIdsOf(userId)).toEqual([first.order.id]);
      expect(await credit(userId)).toBe(600);
    });

    it('answers a retry with the order as it is now, after it completed', async () => {
      const userId = await createUser(1_000);
      const first = await place('buy', userId, 2, 'done-1');
      await finalOrder(first.order.id);
      expect(await place('buy', userId, 2, 'done-1')).toMatchObject({
        status: 'COMPLETED',
        message: Messages.completed,
        order: { id: first.order.id, status: 'COMPLETED' },
      });
      expect(await credit(userId)).toBe(800);
    });

    it('places one order for ten concurrent buys with one clientOrderId', async () => {
      const userId = await createUser(1_000);
      behaviour.set(userId, { delayMs: 60_000, verified: true });
      const results = await Promise.all(Array.from({ length: 10 }, () => place('buy', userId, 3, 'burst')));
      expect(new Set(results.map(({ order }) => order.id)).size).toBe(1);
      expect(results.every(({ status }) => status === 'IN_PROGRESS')).toBe(true);
      expect(await orderIdsOf(userId)).toEqual([results[0]!.order.id]);
      expect(await credit(userId)).toBe(700);
    });

    it('places a sell once and reserves its shares once', async () => {
      const userId = await createUser(1_000);
      await finalOrder((await buy(userId, 5)).order.id);
      behaviour.set(userId, { delayMs: 60_000, verified: true });
      const results = await Promise.all([
        place('sell', userId, 3, 'sell-1'),
        place('sell', userId, 3, 'sell-1'),
      ]);
      expect(results[1]).toEqual(results[0]);
      expect(results[0].status).toBe('IN_PROGRESS');
      // 5 held, 3 reserved once: 3 more are not there, 2 are.
      expect((await sell(userId, 3)).status).toBe('DENIED');
      expect((await sell(userId, 2)).status).toBe('IN_PROGRESS');
    });

    it('answers a buy whose process committed it and died before answering, reserving nothing again', async () => {
      const userId = await createUser(1_000);
      behaviour.set(userId, { delayMs: 60_000, verified: true });
      // What a process that died right after the buy's one statement committed leaves: the order,
      // its reservation and its outbox messages, and a client that never heard the answer.
      const dataSource = await openDatabase(
        createDataSource({ url: stack.databaseUrls.orders, ...ordersDatabase, logger: testLogger('db') }),
        stack.databaseUrls.orders,
      );
      const committed = await new OrderTransitions(dataSource, 60_000, 1_000_000).placeBuy({
        side: 'BUY',
        userId,
        stock: { id: STOCK_ID },
        size: { quantity: 3 },
        clientOrderId: 'unanswered',
      });
      await dataSource.destroy();
      expect(await place('buy', userId, 3, 'unanswered')).toMatchObject({
        status: 'IN_PROGRESS',
        order: { id: committed!.id, total: 300 },
      });
      expect(await credit(userId)).toBe(700);
      expect(await orderIdsOf(userId)).toEqual([committed!.id]);
    });

    it('refuses the same clientOrderId for another order with CLIENT_ORDER_ID_REUSED, moving nothing', async () => {
      const userId = await createUser(1_000);
      behaviour.set(userId, { delayMs: 60_000, verified: true });
      const first = await place('buy', userId, 2, 'taken');
      expect(await placeCodes('buy', userId, 3, 'taken')).toEqual(['CLIENT_ORDER_ID_REUSED']);
      expect(await placeCodes('sell', userId, 2, 'taken')).toEqual(['CLIENT_ORDER_ID_REUSED']);
      expect(await orderIdsOf(userId)).toEqual([first.order.id]);
      expect(await credit(userId)).toBe(800);
    });

    it("keeps each user's clientOrderIds apart", async () => {
      const [ada, bob] = [await createUser(1_000), await createUser(1_000)];
      const forAda = await place('buy', ada, 1, 'same-id');
      const forBob = await place('buy', bob, 1, 'same-id');
      expect(forBob.order.id).not.toBe(forAda.order.id);
      expect(await credit(bob)).toBe(900);
    });

    it.each([
      ['empty', ''],
      ['with a space', 'my order'],
      ['too long', 'x'.repeat(65)],
      ['not ASCII', 'ordre-\u00e9'],
    ])('refuses a clientOrderId that is %s with BAD_USER_INPUT', async (_case, clientOrderId) => {
      const userId = await createUser(1_000);
      const body = await api.graphql(
        url,
        BUY,
        { input: { userId, stockId: STOCK_ID, quantity: 1, clientOrderId } },
        await asUser(userId),
      );
      expect(body.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'input.clientOrderId',
      });
      expect(await orderIdsOf(userId)).toEqual([]);
    });
  });

  it.each([
    ['an unknown stock', { stockId: '999' }, 'STOCK_NOT_FOUND'],
    ['a stock with no price yet', { stockId: UNPRICED_STOCK_ID }, 'PRICE_UNAVAILABLE'],
    ['an unknown user', { userId: '987654321' }, 'USER_NOT_FOUND'],
    ['a quantity of 0', { quantity: 0 }, 'BAD_USER_INPUT'],
    ['a negative quantity', { quantity: -3 }, 'BAD_USER_INPUT'],
    ['an absurd quantity', { quantity: 2_000_000_000 }, 'BAD_USER_INPUT'],
    ['a fractional quantity', { quantity: 1.5 }, 'BAD_USER_INPUT'],
    ['a malformed user id', { userId: 'me' }, 'BAD_USER_INPUT'],
  ])('refuses a buy with %s (%s) and writes nothing', async (_case, override, code) => {
    const userId = await createUser(1_000_000);
    const db = new Client({ connectionString: stack.databaseUrls.orders });
    await db.connect();
    const count = async () =>
      Number((await db.query<{ count: string }>('SELECT count(*) FROM orders')).rows[0]!.count);
    const before = await count();
    expect(
      await errorCodes(url, BUY, { input: { userId, stockId: STOCK_ID, quantity: 1, ...override } }),
    ).toEqual([code]);
    expect(await count()).toBe(before);
    await db.end();
    expect(await credit(userId)).toBe(1_000_000);
  });

  it('hides the service-to-service account opening from the public API', async () => {
    const body = await graphql(
      url,
      `
        mutation {
          openAccount(userId: "1", cash: 5) {
            id
          }
        }
      `,
    );
    expect(body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});
