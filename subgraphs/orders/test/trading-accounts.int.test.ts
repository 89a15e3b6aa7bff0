import { createKafka } from '@brokerage/kafka';
import { createDataSource, openDatabase } from '@brokerage/postgres';
import { decodeJson } from '@brokerage/service';
import { verificationRequestSchema } from '@brokerage/orders-contract';
import type { DataSource } from 'typeorm';
import { asAdmin, asUser } from '../../../test/support/auth';
import * as api from '../../../test/support/graphql';
import { startPlatformStack, type PlatformStack } from '../../../test/support/platform-stack';
import { eventually } from '../../../test/support/price-series';
import { pricedAt, publishQuotes } from '../../../test/support/quotes';
import { kafkaBrokers, testLogger } from '../../../test/support/services';
import { publishVerificationOutcome, publishVerificationOutcomes } from '../../../test/support/verification';
import { ordersDatabase } from '../src/db';
import { checkLedger } from '../src/db/ledger-check';

const STOCK_ID = '44891482026867833';
const PRICE = 250;
const VERIFICATION_DEADLINE_MS = 1_500;
const RETRIES = 2;

const BUY = `mutation ($input: BuyStockInput!) {
  buyStock(input: $input) { status message order { id status quantity price total user { id } stock { id } } }
}`;
const SELL = `mutation ($input: SellStockInput!) { sellStock(input: $input) { status order { id quantity } } }`;
const DEPOSIT = `mutation ($userId: ID!, $amount: Money!, $reference: String!) {
  depositCash(userId: $userId, amount: $amount, reference: $reference) { id kind amount reference user { id credit } }
}`;
const WITHDRAW = `mutation ($userId: ID!, $amount: Money!, $reference: String!) {
  withdrawCash(userId: $userId, amount: $amount, reference: $reference) { id kind amount reference user { id credit } }
}`;

interface BuyResult {
  status: string;
  message: string;
  order: { id: string; status: string; quantity: number; price: number; total: number };
}

// This stack runs no verifier: the tests play its part (or lose its requests) on the real topics.
describe('trading accounts in the orders service', () => {
  let stack: PlatformStack;
  let url: string;
  let admin: Record<string, string>;
  let db: DataSource;

  beforeAll(async () => {
    admin = await asAdmin();
    stack = await startPlatformStack({
      ordersEnv: {
        VERIFICATION_DEADLINE_MS: String(VERIFICATION_DEADLINE_MS),
        VERIFICATION_RETRIES: String(RETRIES),
        OVERDUE_SWEEP_MS: '250',
      },
    });
    url = stack.gatewayUrl;
    await stack.listStock({ id: STOCK_ID, symbol: 'acme', name: 'Acme', price: PRICE });
    db = await openDatabase(
      createDataSource({ url: stack.databaseUrls.orders, ...ordersDatabase, logger: testLogger('db') }),
      stack.databaseUrls.orders,
    );
  });

  // Whatever each test did, every balance must equal the sum of its ledger.
  afterEach(async () => {
    expect(await checkLedger(db)).toEqual([]);
  });

  afterAll(async () => {
    await db?.destroy();
    await stack?.stop();
  });

  const createUser = async (credit: number) =>
    (
      await api.expectData<{ createUser: { id: string; credit: number } }>(
        url,
        'mutation ($credit: Money) { createUser(input: { name: "Trader", credit: $credit }) { id credit } }',
        { credit },
        admin,
      )
    ).createUser;
  const account = async (userId: string) =>
    (
      await api.expectData<{ user: { credit: number; reservedCash: number } }>(
        url,
        'query ($id: ID!) { user(id: $id) { credit reservedCash } }',
        { id: userId },
        admin,
      )
    ).user;
  const buy = async (userId: string, input: Record<string, unknown>) =>
    (await api.expectData<{ buyStock: BuyResult }>(url, BUY, { input }, await asUser(userId))).buyStock;
  const buyCodes = async (userId: string, input: Record<string, unknown>) =>
    api.errorCodes(url, BUY, { input }, await asUser(userId));
  const orderStatus = async (orderId: string) =>
    (
      await api.expectData<{ order: { status: string } }>(
        url,
        'query ($id: ID!) { order(id: $id) { status } }',
        {
          id: orderId,
        },
        admin,
      )
    ).order.status;

  it('opens a created user with the starting credit, readable at once', async () => {
    const user = await createUser(12_345);
    expect(user.credit).toBe(12_345);
    expect(await account(user.id)).toEqual({ credit: 12_345, reservedCash: 0 });
  });

  it('deposits and withdraws once per reference, and never takes reserved cash', async () => {
    const { id: userId } = await createUser(1_000);
    const deposit = { userId, amount: 500, reference: `dep-${userId}` };
    const first = await api.expectData<{ depositCash: { id: string } }>(url, DEPOSIT, deposit, admin);
    const again = await api.expectData<{ depositCash: { id: string } }>(url, DEPOSIT, deposit, admin);
    expect(again.depositCash.id).toBe(first.depositCash.id);
    expect((await account(userId)).credit).toBe(1_500);
    expect(await api.errorCodes(url, DEPOSIT, { ...deposit, amount: 501 }, admin)).toEqual([
      'REFERENCE_REUSED',
    ]);

    // 4 x 250 = 1,000 reserved by an open buy: only 500 is free to withdraw.
    expect((await buy(userId, { stockId: STOCK_ID, quantity: 4 })).status).toBe('IN_PROGRESS');
    const tooMuch = { userId, amount: 501, reference: `wd-big-${userId}` };
    expect(await api.errorCodes(url, WITHDRAW, tooMuch, admin)).toEqual(['INSUFFICIENT_CASH']);
    const withdrawal = { userId, amount: 500, reference: `wd-${userId}` };
    const out = await api.expectData<{ withdrawCash: { kind: string; user: { credit: number } } }>(
      url,
      WITHDRAW,
      withdrawal,
      admin,
    );
    expect(out.withdrawCash).toMatchObject({ kind: 'WITHDRAWAL', user: { credit: 0 } });
    // Sent again when the cash is gone: answered with the first withdrawal, nothing moves.
    expect((await api.expectData(url, WITHDRAW, withdrawal, admin)) as unknown).toMatchObject({
      withdrawCash: { kind: 'WITHDRAWAL' },
    });
    expect(await account(userId)).toEqual({ credit: 0, reservedCash: 1_000 });
  });

  it.each([
    ['a withdrawal for a user with no account', WITHDRAW, { userId: '987654321' }, 'USER_NOT_FOUND'],
    ['a deposit for a user with no account', DEPOSIT, { userId: '987654321' }, 'USER_NOT_FOUND'],
    ['an amount of 0', DEPOSIT, { amount: 0 }, 'BAD_USER_INPUT'],
    ['a negative amount', WITHDRAW, { amount: -5 }, 'BAD_USER_INPUT'],
    ['a reference with spaces', DEPOSIT, { reference: 'a b' }, 'BAD_USER_INPUT'],
  ])('refuses %s and moves nothing', async (_case, mutation, override, code) => {
    const { id: userId } = await createUser(100);
    const variables = { userId, amount: 10, reference: `bad-${userId}`, ...override };
    expect(await api.errorCodes(url, mutation, variables, admin)).toEqual([code]);
    expect((await account(userId)).credit).toBe(100);
  });

  it('lets only admins move money', async () => {
    const { id: userId } = await createUser(100);
    const variables = { userId, amount: 10, reference: `self-${userId}` };
    expect(await api.errorCodes(url, DEPOSIT, variables, await asUser(userId))).toEqual(['FORBIDDEN']);
    expect(await api.errorCodes(url, DEPOSIT, variables)).toEqual(['UNAUTHENTICATED']);
  });

  it('buys by symbol, for the signed-in caller, and with an amount of cash instead of a quantity', async () => {
    const { id: userId } = await createUser(1_000);
    const result = await buy(userId, { symbol: 'ACME', amount: 999 });
    // floor(999 / 250) = 3 shares, 750 reserved.
    expect(result).toMatchObject({
      status: 'IN_PROGRESS',
      order: { quantity: 3, price: PRICE, total: 750, user: { id: userId }, stock: { id: STOCK_ID } },
    });
    expect(await account(userId)).toEqual({ credit: 250, reservedCash: 750 });
    expect(await buyCodes(userId, { symbol: 'acme', amount: 249 })).toEqual(['AMOUNT_TOO_SMALL']);
    expect(await buyCodes(userId, { symbol: 'nosuch', quantity: 1 })).toEqual(['STOCK_NOT_FOUND']);
  });

  it.each([
    ['both stockId and symbol', { stockId: STOCK_ID, symbol: 'acme', quantity: 1 }],
    ['neither stockId nor symbol', { quantity: 1 }],
    ['both quantity and amount', { stockId: STOCK_ID, quantity: 1, amount: 500 }],
    ['neither quantity nor amount', { stockId: STOCK_ID }],
    ['a fractional amount', { stockId: STOCK_ID, amount: 500.5 }],
    ['a malformed symbol', { symbol: 'ac me', quantity: 1 }],
  ])('refuses a buy with %s as BAD_USER_INPUT, writing nothing', async (_case, input) => {
    const { id: userId } = await createUser(1_000);
    expect(await buyCodes(userId, input)).toEqual(['BAD_USER_INPUT']);
    expect(await account(userId)).toEqual({ credit: 1_000, reservedCash: 0 });
  });

  it('refuses an amount for a sell', async () => {
    const { id: userId } = await createUser(1_000);
    expect(
      await api.errorCodes(
        url,
        SELL,
        { input: { stockId: STOCK_ID, quantity: 1, amount: 500 } },
        await asUser(userId),
      ),
    ).toEqual(['BAD_USER_INPUT']);
  });

  it('asks again for a verification whose request was lost, and completes the order on the answer', async () => {
    const { id: userId } = await createUser(1_000);
    const kafka = createKafka({ clientId: 'test', brokers: kafkaBrokers(), logger: testLogger('kafka') });
    const kafkaAdmin = kafka.admin();
    await kafkaAdmin.connect();
    // Fetches that wait at most half a second: its disconnect waits for the one in flight.
    const consumer = kafka.consumer({
      groupId: `test-requests-${userId}-${Date.now()}`,
      maxWaitTimeInMs: 500,
    });
    try {
      const { order } = await buy(userId, { stockId: STOCK_ID, quantity: 2 });
      // The relay publishes the request; the broker then loses it before any verifier reads it.
      const published = async () =>
        (await kafkaAdmin.fetchTopicOffsets(stack.topics.verificationRequests)).reduce(
          (sum, { offset }) => sum + Number(offset),
          0,
        );
      await eventually(published, (count) => count > 0, 10_000);
      const before = await published();
      await kafkaAdmin.deleteTopicRecords({
        topic: stack.topics.verificationRequests,
        partitions: (await kafkaAdmin.fetchTopicOffsets(stack.topics.verificationRequests)).map(
          ({ partition }) => ({ partition, offset: '-1' }),
        ),
      });
      // Past the deadline the order asks again: the verifier's answer to that completes it.
      await eventually(published, (count) => count > before, 10_000);
      await publishVerificationOutcome(stack.topics.verificationOutcomes, order.id, 'APPROVED');
      expect(
        await eventually(
          () => orderStatus(order.id),
          (status) => status !== 'IN_PROGRESS',
          10_000,
        ),
      ).toBe('COMPLETED');
      // And what was asked again is this order's verification, the only request left to read.
      const asked: string[] = [];
      await consumer.connect();
      await consumer.subscribe({ topic: stack.topics.verificationRequests, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          asked.push(decodeJson(verificationRequestSchema, message.value).orderId);
        },
      });
      await eventually(
        async () => asked,
        (ids) => ids.includes(order.id),
        15_000,
      );
      expect(await account(userId)).toEqual({ credit: 500, reservedCash: 0 });
    } finally {
      await consumer.disconnect();
      await kafkaAdmin.disconnect();
    }
  });

  it('fails an order whose verification never answers, within the stated bound, releasing its cash', async () => {
    const { id: userId } = await createUser(1_000);
    const placed = Date.now();
    const { order } = await buy(userId, { stockId: STOCK_ID, quantity: 3 });
    expect(await account(userId)).toEqual({ credit: 250, reservedCash: 750 });
    // (retries + 1) x the deadline, plus a sweep interval.
    const bound = (RETRIES + 1) * VERIFICATION_DEADLINE_MS + 250;
    const status = await eventually(
      () => orderStatus(order.id),
      (value) => value !== 'IN_PROGRESS',
      bound + 10_000,
    );
    expect(status).toBe('FAILED');
    expect(Date.now() - placed).toBeGreaterThanOrEqual((RETRIES + 1) * VERIFICATION_DEADLINE_MS);
    expect(Date.now() - placed).toBeLessThan(bound + 3_000);
    expect(await account(userId)).toEqual({ credit: 1_000, reservedCash: 0 });
    // The answer that comes after all changes nothing.
    await publishVerificationOutcome(stack.topics.verificationOutcomes, order.id, 'APPROVED');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await orderStatus(order.id)).toBe('FAILED');
  });

  it('applies many outcomes for one account at once, the first outcome of an order winning', async () => {
    const { id: userId } = await createUser(10_000);
    const placed: string[] = [];
    for (let i = 0; i < 6; i += 1)
      placed.push((await buy(userId, { stockId: STOCK_ID, quantity: 2 })).order.id);
    expect(await account(userId)).toEqual({ credit: 7_000, reservedCash: 3_000 });
    // One send: the orders consumer reads these as one batch (or a few), the repeats included.
    const outcomes = placed.flatMap((orderId, index) =>
      index % 2 === 0
        ? [
            { orderId, outcome: 'APPROVED' as const },
            { orderId, outcome: 'REJECTED' as const },
          ]
        : [{ orderId, outcome: 'REJECTED' as const }],
    );
    await publishVerificationOutcomes(stack.topics.verificationOutcomes, outcomes);
    const statuses = await eventually(
      () => Promise.all(placed.map(orderStatus)),
      (all) => all.every((status) => status !== 'IN_PROGRESS'),
      10_000,
    );
    expect(statuses).toEqual(['COMPLETED', 'FAILED', 'COMPLETED', 'FAILED', 'COMPLETED', 'FAILED']);
    // Three buys of 500 captured, three released.
    expect(await account(userId)).toEqual({ credit: 8_500, reservedCash: 0 });
  });

  it('prices at the latest trade the prices topic carries, and never goes back to an older one', async () => {
    const { id: userId } = await createUser(10_000);
    await publishQuotes(stack.topics.prices, [
      { stockId: STOCK_ID, symbol: 'acme', date: '20261121', time: '100000', seq: 7, price: 300 },
      { stockId: STOCK_ID, symbol: 'acme', date: '20261121', time: '095959', seq: 9, price: 200 },
    ]);
    await eventually(
      () => pricedAt(stack.databaseUrls.orders, STOCK_ID),
      (price) => price === 300,
      10_000,
    );
    expect((await buy(userId, { stockId: STOCK_ID, quantity: 1 })).order.price).toBe(300);
  });
});
