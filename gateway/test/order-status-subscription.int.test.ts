import { createRedis, type Redis } from '@brokerage/redis';
import { createLogger, loadConfig } from '@brokerage/service';
import { asAdmin, asUser } from '../../test/support/auth';
import * as api from '../../test/support/graphql';
import { metricTotal } from '../../test/support/graphql';
import { startPlatformStack, type PlatformStack } from '../../test/support/platform-stack';
import { eventually } from '../../test/support/price-series';
import { testLogger, testRedisUrl } from '../../test/support/services';
import { publishVerificationOutcome } from '../../test/support/verification';
import { subscribe } from '../../test/support/subscriptions';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { gatewayConfigSchema } from '../src/config';
import { start as startGateway, type RunningGateway } from '../src/server';

const STOCK_ID = '44891482026867833';
const WATCH = `subscription ($id: ID!) {
  orderStatus(orderId: $id) { status message total user { name credit } stock { symbol lastPrice } }
}`;

interface Watched {
  orderStatus: {
    status: string;
    message: string;
    total: number;
    user: { name: string; credit: number };
    stock: { symbol: string; lastPrice: number };
  };
}

describe('orderStatus subscription through the gateway', () => {
  let stack: PlatformStack;
  let url: string;
  let redis: Redis;
  let secondGateway: RunningGateway;
  const behaviour = new Map<string, { delayMs: number; verified: boolean }>();

  beforeAll(async () => {
    stack = await startPlatformStack({
      verification: {
        stallLimitMs: 30_000,
        decide: ({ userId }) => behaviour.get(userId) ?? { delayMs: 50, verified: true },
      },
    });
    url = stack.gatewayUrl;
    redis = createRedis({
      url: testRedisUrl,
      keyPrefix: '',
      logger: createLogger({ service: 't', level: 'silent' }),
    });
    admin = await asAdmin();
    await stack.listStock({ id: STOCK_ID, symbol: 'stock1', name: 'Stock One', price: 250 });
    // A second replica: any gateway can hold any client's socket.
    secondGateway = await startGateway(
      loadConfig(gatewayConfigSchema, stack.gatewayEnv),
      testLogger('gateway-2'),
    );
  });

  afterAll(async () => {
    await secondGateway.stop();
    redis.disconnect();
    await stack.stop();
  });

  // Set-up and checks are the back office's (an admin); each order is bought and watched by its owner.
  let admin: Record<string, string>;
  const expectData = <T>(target: string, query: string, variables: Record<string, unknown> = {}) =>
    api.expectData<T>(target, query, variables, admin);

  async function buy(verification: { delayMs: number; verified: boolean }, credit = 100_000, quantity = 4) {
    const { createUser } = await expectData<{ createUser: { id: string } }>(
      url,
      `mutation { createUser(input: { name: "Watcher", credit: ${credit} }) { id } }`,
    );
    behaviour.set(createUser.id, verification);
    // The owner's credentials: request headers for HTTP, connectionParams for the socket.
    const owner = await asUser(createUser.id);
    const { buyStock } = await api.expectData<{ buyStock: { status: string; order: { id: string } } }>(
      url,
      `mutation ($input: BuyStockInput!) { buyStock(input: $input) { status order { id } } }`,
      { input: { userId: createUser.id, stockId: STOCK_ID, quantity } },
      owner,
    );
    return { ...buyStock, owner };
  }

  it('sends the current state first, then the final status with fields of every subgraph, then completes', async () => {
    const { order, owner } = await buy({ delayMs: 120_000, verified: true });
    const watch = subscribe<Watched>(url, WATCH, { id: order.id }, owner);
    await watch.received(1);
    // The outcome arrives only once the client holds the first state, as the verifier would publish it.
    await publishVerificationOutcome(stack.topics.verificationOutcomes, order.id, 'APPROVED');
    await watch.completed;
    expect(watch.results.map(({ data }) => data?.orderStatus.status)).toEqual(['IN_PROGRESS', 'COMPLETED']);
    expect(watch.results[1]!.data!.orderStatus).toEqual({
      status: 'COMPLETED',
      message: 'Success: Buy order complete.',
      total: 1_000,
      user: { name: 'Watcher', credit: 99_000 },
      stock: { symbol: 'stock1', lastPrice: 250 },
    });
    await watch.dispose();
  });

  it('shows credit already released when a selection reads it with a failed order', async () => {
    const { order, owner } = await buy({ delayMs: 120_000, verified: false }, 5_000);
    const watch = subscribe<{ orderStatus: { status: string; user: { credit: number } } }>(
      url,
      `subscription ($id: ID!) { orderStatus(orderId: $id) { status user { credit } } }`,
      { id: order.id },
      owner,
    );
    await watch.received(1);
    expect(watch.results[0]!.data!.orderStatus).toEqual({ status: 'IN_PROGRESS', user: { credit: 4_000 } });
    // The failure and the release of the reservation commit together, and are announced after:
    // a selection that reads credit with the failed order sees the credit back.
    await publishVerificationOutcome(stack.topics.verificationOutcomes, order.id, 'REJECTED');
    await watch.completed;
    expect(watch.results.map(({ data }) => data?.orderStatus)).toEqual([
      { status: 'IN_PROGRESS', user: { credit: 4_000 } },
      { status: 'FAILED', user: { credit: 5_000 } },
    ]);
    await watch.dispose();
  });

  it("answers a selection of the order's own fields from the status event, as a read would", async () => {
    const { order, owner } = await buy({ delayMs: 120_000, verified: true });
    const OWN_FIELDS = `subscription ($id: ID!, $withSide: Boolean!) {
      watched: orderStatus(orderId: $id) {
        __typename id status ...Amounts side @include(if: $withSide) placed: createdAt updatedAt message
      }
    }
    fragment Amounts on Order { quantity price total }`;
    const fromEvents = () =>
      metricTotal(stack.metricsUrl(url), 'order_status_events_delivered_total', 'source="event"');
    const before = await fromEvents();
    const watch = subscribe<{ watched: Record<string, unknown> }>(
      url,
      OWN_FIELDS,
      { id: order.id, withSide: true },
      owner,
    );
    await watch.received(1);
    await publishVerificationOutcome(stack.topics.verificationOutcomes, order.id, 'APPROVED');
    await watch.completed;
    expect(await fromEvents()).toBe(before + 1);
    // The same selection as a query, through the subgraphs, gives the same answer.
    const read = await api.expectData<{ watched: Record<string, unknown> }>(
      url,
      `query ($id: ID!, $withSide: Boolean!) {
        watched: order(id: $id) {
          __typename id status ...Amounts side @include(if: $withSide) placed: createdAt updatedAt message
        }
      }
      fragment Amounts on Order { quantity price total }`,
      { id: order.id, withSide: true },
      owner,
    );
    expect(watch.results.at(-1)).toEqual({ data: read });
    expect(read.watched).toMatchObject({ status: 'COMPLETED', side: 'BUY', total: 1_000 });
    await watch.dispose();
  });

  it('does not miss an outcome that arrived before the subscription', async () => {
    const { order, owner } = await buy({ delayMs: 10, verified: false });
    await eventually(
      async () =>
        (await expectData<{ order: { status: string } }>(url, `{ order(id: "${order.id}") { status } }`))
          .order.status,
      (status) => status === 'FAILED',
      10_000,
    );
    const watch = subscribe<Watched>(url, WATCH, { id: order.id }, owner);
    await watch.completed;
    expect(watch.results.map(({ data }) => data?.orderStatus.status)).toEqual(['FAILED']);
    await watch.dispose();
  });

  it('keeps aliases, fragments and variables, even when the selection has no status', async () => {
    const { order, owner } = await buy({ delayMs: 300, verified: true });
    const watch = subscribe<{ mine: { amount: number } }>(
      url,
      `subscription Watch($id: ID!) { mine: orderStatus(orderId: $id) { ...Amount } } fragment Amount on Order { amount: total }`,
      { id: order.id },
      owner,
    );
    await watch.completed;
    expect(watch.results.at(-1)).toEqual({ data: { mine: { amount: 1_000 } } });
    await watch.dispose();
  });

  it('streams a denied order as its one final state', async () => {
    const { status, order, owner } = await buy({ delayMs: 10, verified: true }, 10);
    expect(status).toBe('DENIED');
    const watch = subscribe<Watched>(url, WATCH, { id: order.id }, owner);
    await watch.completed;
    expect(watch.results.map(({ data }) => data?.orderStatus.message)).toEqual(['Deny: Not enough credit']);
    await watch.dispose();
  });

  it('answers an unknown order with ORDER_NOT_FOUND', async () => {
    const watch = subscribe(url, WATCH, { id: '987654321' }, admin);
    await watch.completed.catch(() => undefined);
    expect(watch.results.at(-1)?.errors?.[0]?.extensions?.code).toBe('ORDER_NOT_FOUND');
    await watch.dispose();
  });

  it('delivers the same order to subscribers on two gateway processes', async () => {
    const { order, owner } = await buy({ delayMs: 1_000, verified: true });
    const first = subscribe<Watched>(url, WATCH, { id: order.id }, owner);
    const second = subscribe<Watched>(secondGateway.url, WATCH, { id: order.id }, owner);
    await Promise.all([first.completed, second.completed]);
    for (const watch of [first, second]) {
      expect(watch.results.at(-1)?.data?.orderStatus.status).toBe('COMPLETED');
      await watch.dispose();
    }
  });

  it('releases the Redis subscription as soon as a client unsubscribes, its socket still open', async () => {
    // The order stays IN_PROGRESS: the stream is waiting for a change that does not come when the
    // client sends `complete`, and must end then rather than at the next status.
    const { order, owner } = await buy({ delayMs: 60_000, verified: true });
    const channel = `${stack.statusChannelPrefix}${order.id}`;
    const openBefore = await metricTotal(stack.metricsUrl(url), 'graphql_subscriptions_open');
    const client = createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: owner,
      retryAttempts: 0,
    });
    let unsubscribe = () => {};
    await new Promise((resolve, reject) => {
      unsubscribe = client.subscribe(
        {
          query: `subscription ($id: ID!) { orderStatus(orderId: $id) { status } }`,
          variables: { id: order.id },
        },
        { next: resolve, error: reject, complete: () => undefined },
      );
    });
    expect(await redis.pubsub('NUMSUB', channel)).toEqual([channel, 1]);

    unsubscribe();
    expect(
      await eventually(
        () => redis.pubsub('NUMSUB', channel),
        (value) => value[1] === 0,
        5_000,
      ),
    ).toEqual([channel, 0]);
    expect(
      await eventually(
        () => metricTotal(stack.metricsUrl(url), 'graphql_subscriptions_open'),
        (open) => open === openBefore,
        5_000,
      ),
    ).toBe(openBefore);
    // The socket is still open and serving: a query over it answers.
    const answer = await new Promise<unknown>((resolve, reject) => {
      client.subscribe(
        { query: `query ($id: ID!) { order(id: $id) { status } }`, variables: { id: order.id } },
        { next: resolve, error: reject, complete: () => undefined },
      );
    });
    expect(answer).toEqual({ data: { order: { status: 'IN_PROGRESS' } } });
    await client.dispose();
  });

  it('releases every Redis subscription when 1,000 sockets close', async () => {
    const { order, owner } = await buy({ delayMs: 60_000, verified: true });
    const channel = `${stack.statusChannelPrefix}${order.id}`;
    const openBefore = await metricTotal(stack.metricsUrl(url), 'graphql_subscriptions_open');
    const watches = Array.from({ length: 1_000 }, () =>
      subscribe<Watched>(
        url,
        `subscription ($id: ID!) { orderStatus(orderId: $id) { status } }`,
        { id: order.id },
        owner,
      ),
    );
    await Promise.all(watches.map((watch) => watch.received(1)));
    expect(await redis.pubsub('NUMSUB', channel)).toEqual([channel, 1]);
    expect(await metricTotal(stack.metricsUrl(url), 'graphql_subscriptions_open')).toBe(openBefore + 1_000);

    await Promise.all(watches.map((watch) => watch.dispose()));
    const numsub = await eventually(
      () => redis.pubsub('NUMSUB', channel),
      (value) => value[1] === 0,
      10_000,
    );
    expect(numsub).toEqual([channel, 0]);
    expect(
      await eventually(
        () => metricTotal(stack.metricsUrl(url), 'graphql_subscriptions_open'),
        (open) => open === 0,
        10_000,
      ),
    ).toBe(0);
  });
});
