import { createKafka } from '@brokerage/kafka';
import { createDataSource, openDatabase } from '@brokerage/postgres';
import { createMetrics } from '@brokerage/service';
import type { DataSource } from 'typeorm';
import { asAdmin, asUser } from '../../../test/support/auth';
import * as api from '../../../test/support/graphql';
import { startPlatformStack, type PlatformStack } from '../../../test/support/platform-stack';
import { eventually } from '../../../test/support/price-series';
import { kafkaBrokers, testLogger, uniqueSuffix } from '../../../test/support/services';
import { publishVerificationOutcome } from '../../../test/support/verification';
import { ordersDatabase } from '../src/db';
import { checkLedger } from '../src/db/ledger-check';
import { StockListingsRepository } from '../src/db/stock-listings-repository';
import { StockListingsFollower } from '../src/listings/stock-listings-follower';

// The stocks service owns the list of stocks; the orders service follows its announcements and
// refuses buys of a delisted stock in the statement that would place them, while holders can
// still sell (closing only). Everything runs through the gateway, with the real broker and
// databases; the tests play the verifier's part on its topic.

const STOCK = { id: '44891482026867833', symbol: 'acme', name: 'Acme', price: 250 };
const BUY = `mutation ($input: BuyStockInput!) { buyStock(input: $input) { status order { id status } } }`;
const SELL = `mutation ($input: SellStockInput!) { sellStock(input: $input) { status order { id status price } } }`;
const DELIST = `mutation ($id: ID!) { delistStock(id: $id) { id delistedAt } }`;
const RELIST = `mutation ($id: ID!) { relistStock(id: $id) { id delistedAt } }`;

interface Written {
  orders: number;
  movements: number;
  cash: number;
  reserved: number;
}

describe('trading follows the stock list: delisted stocks are closing only, and can be listed again', () => {
  let stack: PlatformStack;
  let url: string;
  let admin: Record<string, string>;
  let db: DataSource;
  let userId: string;

  const delisted = async () =>
    (
      await db.query<Array<{ delisted: boolean }>>(
        'SELECT delisted_at IS NOT NULL AS delisted FROM stock_listings WHERE stock_id = $1',
        [STOCK.id],
      )
    )[0]?.delisted;
  const written = async (): Promise<Written> =>
    (
      await db.query<Written[]>(
        `SELECT (SELECT count(*) FROM orders)::int AS orders,
                (SELECT count(*) FROM cash_movements WHERE user_id = $1)::int AS movements,
                cash::int, reserved::int
           FROM accounts WHERE user_id = $1`,
        [userId],
      )
    )[0]!;
  const buy = async (input: Record<string, unknown>) =>
    api.graphql<{ buyStock: { status: string; order: { id: string } } }>(
      url,
      BUY,
      { input },
      await asUser(userId),
    );
  const sell = async (input: Record<string, unknown>) =>
    (
      await api.expectData<{ sellStock: { status: string; order: { id: string; price: number } } }>(
        url,
        SELL,
        { input },
        await asUser(userId),
      )
    ).sellStock;
  const complete = async (orderId: string) => {
    await publishVerificationOutcome(stack.topics.verificationOutcomes, orderId, 'APPROVED');
    expect(
      await eventually(
        async () =>
          (
            await db.query<Array<{ status: string }>>('SELECT status FROM orders WHERE id = $1', [orderId])
          )[0]!.status,
        (status) => status !== 'IN_PROGRESS',
        15_000,
      ),
    ).toBe('COMPLETED');
  };

  beforeAll(async () => {
    admin = await asAdmin();
    stack = await startPlatformStack();
    url = stack.gatewayUrl;
    await stack.listStock(STOCK);
    db = await openDatabase(
      createDataSource({ url: stack.databaseUrls.orders, ...ordersDatabase, logger: testLogger('db') }),
      stack.databaseUrls.orders,
    );
    userId = (
      await api.expectData<{ createUser: { id: string } }>(
        url,
        'mutation { createUser(input: { name: "Holder", credit: 100000 }) { id } }',
        {},
        admin,
      )
    ).createUser.id;
  }, 90_000);

  // Whatever each test did (or refused), every balance equals its ledger and every order moved its money.
  afterEach(async () => {
    expect(await checkLedger(db)).toEqual([]);
  });

  afterAll(async () => {
    await db?.destroy();
    await stack?.stop();
  });

  let inFlightBuy: string;

  it('buys a listed stock, and keeps one buy in flight for the delisting', async () => {
    const { data } = await buy({ stockId: STOCK.id, quantity: 10 });
    expect(data?.buyStock.status).toBe('IN_PROGRESS');
    await complete(data!.buyStock.order.id);
    const inFlight = await buy({ symbol: STOCK.symbol, quantity: 4 });
    expect(inFlight.data?.buyStock.status).toBe('IN_PROGRESS');
    inFlightBuy = inFlight.data!.buyStock.order.id;
  });

  it('refuses a buy of a delisted stock with STOCK_DELISTED, writing nothing', async () => {
    await api.expectData(url, DELIST, { id: STOCK.id }, admin);
    expect(await eventually(delisted, (is) => is === true, 15_000)).toBe(true);
    const before = await written();
    for (const input of [
      { stockId: STOCK.id, quantity: 1 },
      { symbol: STOCK.symbol, quantity: 1 },
      { symbol: 'ACME', amount: 10_000 },
      { stockId: STOCK.id, quantity: 2, clientOrderId: 'after-delisting' },
    ]) {
      const { errors, data } = await buy(input);
      expect(data).toBeNull();
      expect(errors?.map(({ extensions }) => [extensions?.code, extensions?.field])).toEqual([
        ['STOCK_DELISTED', 'stockId' in input ? 'input.stockId' : 'input.symbol'],
      ]);
    }
    // No order (so no message either: outbox rows belong to orders), no ledger line, no reservation.
    expect(await written()).toEqual(before);
  });

  it('lets a holder sell a delisted stock at its last price', async () => {
    const sold = await sell({ stockId: STOCK.id, quantity: 3 });
    expect(sold.status).toBe('IN_PROGRESS');
    expect(sold.order.price).toBe(STOCK.price);
    await complete(sold.order.id);
  });

  it('completes a buy that was in flight at the delisting as it was placed', async () => {
    await complete(inFlightBuy);
    const { user } = await api.expectData<{ user: { holdings: Array<{ quantity: number }> } }>(
      url,
      'query ($id: ID!) { user(id: $id) { holdings { quantity } } }',
      { id: userId },
      admin,
    );
    expect(user.holdings).toEqual([{ quantity: 10 - 3 + 4 }]);
  });

  it('rebuilds its view of the list from the topic: a follower starting on an empty table restores it', async () => {
    // As after a restore from a backup taken before the delisting.
    await db.query('DELETE FROM stock_listings');
    const kafka = createKafka({
      clientId: 'orders-test',
      brokers: kafkaBrokers(),
      logger: testLogger('kafka'),
    });
    const kafkaAdmin = kafka.admin();
    await kafkaAdmin.connect();
    const follower = new StockListingsFollower({
      kafka,
      admin: kafkaAdmin,
      topic: stack.topics.stockListings,
      groupId: `orders-listings-rebuild-${uniqueSuffix()}`,
      listings: new StockListingsRepository(db),
      logger: testLogger('listings'),
      registry: createMetrics('orders-test', { collectDefaults: false }).registry,
    });
    try {
      follower.start();
      expect(await eventually(delisted, (is) => is === true, 20_000)).toBe(true);
    } finally {
      await follower.stop();
      await kafkaAdmin.disconnect();
    }
    expect((await buy({ stockId: STOCK.id, quantity: 1 })).errors?.[0]?.extensions?.code).toBe(
      'STOCK_DELISTED',
    );
  });

  it('accepts buys again once the stock is listed again', async () => {
    const { relistStock } = await api.expectData<{ relistStock: { delistedAt: string | null } }>(
      url,
      RELIST,
      { id: STOCK.id },
      admin,
    );
    expect(relistStock.delistedAt).toBeNull();
    expect(await eventually(delisted, (is) => is === false, 15_000)).toBe(false);
    const { data } = await buy({ stockId: STOCK.id, quantity: 2, clientOrderId: 'after-relisting' });
    expect(data?.buyStock.status).toBe('IN_PROGRESS');
    await complete(data!.buyStock.order.id);
  });
});
