import { createHmac, timingSafeEqual } from 'node:crypto';
import { asAdmin, asUser } from '../../../test/support/auth';
import { errorCodes, expectData, graphql } from '../../../test/support/graphql';
import { startPlatformStack, type PlatformStack } from '../../../test/support/platform-stack';
import { eventually } from '../../../test/support/price-series';
import { spawnService, type ServiceProcess } from '../../../test/support/processes';
import { WebhookReceiver } from './support/receiver';

const NOTIFIER = 'subgraphs/notifications/src/notifier/index.ts';
const STOCK_ID = '44891482026867833';
const PRICE = 1_000;
const TIMEOUT_MS = 4_000;

const ADD = `mutation ($url: String!, $events: [WebhookEvent!]!) {
  addWebhook(url: $url, events: $events) { secret webhook { id url events } }
}`;
const DELIVERIES = `query ($id: ID!) { user(id: $id) { webhookDeliveries(limit: 100) {
  eventId event status attempts lastResponseCode lastError nextAttemptAt url order { id }
} } }`;
const ALL_EVENTS = [
  'ORDER_IN_PROGRESS',
  'ORDER_COMPLETED',
  'ORDER_FAILED',
  'ORDER_CANCELLED',
  'ORDER_DENIED',
];

interface Delivery {
  eventId: string;
  event: string;
  status: string;
  attempts: number;
  lastResponseCode: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  url: string;
  order: { id: string };
}

/** What a receiver does with the secret it was shown once (README: "Receiving webhooks"). */
function signatureVerifies(secret: string, body: string, header: string | undefined): boolean {
  const { t, v1 } = Object.fromEntries((header ?? '').split(',').map((part) => part.split('='))) as Record<
    string,
    string | undefined
  >;
  if (!t || !v1 || Math.abs(Date.now() / 1000 - Number(t)) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  const given = Buffer.from(v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

describe('webhooks for order events, through the gateway, with a notifier process', () => {
  let stack: PlatformStack;
  let url: string;
  let admin: Record<string, string>;
  let notifier: ServiceProcess | undefined;
  const receivers: WebhookReceiver[] = [];

  const startNotifier = async () => {
    const started = await spawnService(NOTIFIER, {
      ...stack.notifierEnv,
      WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
      WEBHOOK_RETRY_BASE_MS: '300',
      WEBHOOK_RETRY_MAX_DELAY_MS: '1000',
      WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT: '2',
      DELIVERY_POLL_MS: '200',
      KAFKA_SESSION_TIMEOUT_MS: '6000',
    });
    await started.ready(60_000);
    return started;
  };

  const receiver = async (answer: ConstructorParameters<typeof WebhookReceiver>[0]) => {
    const created = new WebhookReceiver(answer);
    receivers.push(created);
    return { receiver: created, url: await created.start() };
  };

  const createUser = async (name: string) =>
    (
      await expectData<{ createUser: { id: string } }>(
        url,
        `mutation ($name: String!) { createUser(input: { name: $name, credit: 1000000 }) { id } }`,
        { name },
        admin,
      )
    ).createUser.id;

  const addWebhook = async (userId: string, webhookUrl: string, events = ALL_EVENTS) =>
    (
      await expectData<{ addWebhook: { secret: string; webhook: { id: string } } }>(
        url,
        ADD,
        { url: webhookUrl, events },
        await asUser(userId),
      )
    ).addWebhook;

  const buy = async (userId: string) =>
    (
      await expectData<{ buyStock: { order: { id: string } } }>(
        url,
        `mutation ($input: BuyStockInput!) { buyStock(input: $input) { order { id } } }`,
        { input: { stockId: STOCK_ID, quantity: 1 } },
        await asUser(userId),
      )
    ).buyStock.order.id;

  const deliveriesOf = async (userId: string) =>
    (
      await expectData<{ user: { webhookDeliveries: Delivery[] } }>(
        url,
        DELIVERIES,
        { id: userId },
        await asUser(userId),
      )
    ).user.webhookDeliveries;

  /** Event ids in the order they first arrived (a receiver drops repeats by id). */
  const firstArrivals = (received: WebhookReceiver) => [...new Set(received.bodies().map((body) => body.id))];
  const expectedEvents = (orderIds: string[]) =>
    orderIds.flatMap((id) => [`evt_order_${id}_in_progress`, `evt_order_${id}_completed`]);

  beforeAll(async () => {
    admin = await asAdmin();
    stack = await startPlatformStack({
      verification: { stallLimitMs: 10_000, decide: () => ({ delayMs: 50, verified: true }) },
    });
    url = stack.gatewayUrl;
    await stack.listStock({ id: STOCK_ID, symbol: 'hook1', price: PRICE });
  });

  afterAll(async () => {
    await notifier?.kill('SIGTERM');
    await Promise.all(receivers.map((created) => created.stop()));
    await stack.stop();
  });

  it('refuses private, loopback, link-local, CGNAT and unspecified endpoints with WEBHOOK_URL_REFUSED, writing nothing', async () => {
    const userId = await createUser('Mallory');
    const as = await asUser(userId);
    const refusal = async (target: string) => {
      const body = await graphql(url, ADD, { url: target, events: ['ORDER_COMPLETED'] }, as);
      const [error] = body.errors ?? [];
      return [error?.extensions?.code, error?.extensions?.reason];
    };
    const refusedAddress = ['WEBHOOK_URL_REFUSED', 'ADDRESS'];
    // The stack allows 127.0.0.1 alone (its receivers); every other inside address is refused,
    // and outside development a public one only over https.
    expect(await refusal('https://10.0.0.1/hook')).toEqual(refusedAddress);
    expect(await refusal('https://169.254.169.254/latest/meta-data/')).toEqual(refusedAddress);
    expect(await refusal('https://127.0.0.2:8080/hook')).toEqual(refusedAddress);
    expect(await refusal('https://[::1]:8080/hook')).toEqual(refusedAddress);
    expect(await refusal('https://[::ffff:127.0.0.2]/hook')).toEqual(refusedAddress);
    expect(await refusal('https://[fd00::1]/hook')).toEqual(refusedAddress);
    expect(await refusal('https://100.64.0.1/hook')).toEqual(refusedAddress);
    expect(await refusal('https://0.0.0.0:4000/hook')).toEqual(refusedAddress);
    expect(await refusal('http://example.com/hook')).toEqual(['WEBHOOK_URL_REFUSED', 'HTTPS_REQUIRED']);
    expect(await refusal('ftp://example.com/hook')).toEqual(['WEBHOOK_URL_REFUSED', 'SCHEME']);
    expect(await refusal('https://user:pw@example.com/hook')).toEqual(['WEBHOOK_URL_REFUSED', 'CREDENTIALS']);
    expect(await errorCodes(url, ADD, { url: 'https://example.com/', events: [] }, as)).toEqual([
      'BAD_USER_INPUT',
    ]);
    expect(await expectData(url, `{ webhooks { id } }`, {}, as)).toEqual({ webhooks: [] });
    // Signed out, or for someone else: nothing to see.
    expect(await errorCodes(url, `{ webhooks { id } }`)).toEqual(['UNAUTHENTICATED']);
    expect(await errorCodes(url, DELIVERIES, { id: await createUser('Victim') }, as)).toEqual(['FORBIDDEN']);
  });

  it('shows the secret once, lists webhooks without it, and removes only the caller’s own', async () => {
    const owner = await createUser('Owner');
    const other = await createUser('Other');
    const { secret, webhook } = await addWebhook(owner, 'http://127.0.0.1:9/hook', ['ORDER_COMPLETED']);
    expect(secret).toMatch(/^whsec_[\w-]{43}$/);
    expect(await errorCodes(url, `{ webhooks { id secret } }`, {}, await asUser(owner))).toEqual([
      'GRAPHQL_VALIDATION_FAILED',
    ]);
    expect(await expectData(url, `{ webhooks { id url events } }`, {}, await asUser(owner))).toEqual({
      webhooks: [{ id: webhook.id, url: 'http://127.0.0.1:9/hook', events: ['ORDER_COMPLETED'] }],
    });
    const remove = `mutation ($id: ID!) { removeWebhook(id: $id) { id } }`;
    expect(await errorCodes(url, remove, { id: webhook.id }, await asUser(other))).toEqual([
      'WEBHOOK_NOT_FOUND',
    ]);
    expect(await expectData(url, remove, { id: webhook.id }, await asUser(owner))).toEqual({
      removeWebhook: { id: webhook.id },
    });
    expect(await errorCodes(url, remove, { id: webhook.id }, await asUser(owner))).toEqual([
      'WEBHOOK_NOT_FOUND',
    ]);
    expect(await expectData(url, `{ webhooks { id } }`, {}, await asUser(owner))).toEqual({ webhooks: [] });
  });

  it('delivers every event signed, in order per order, through failures, timeouts, a dead endpoint and a kill -9 of the notifier', async () => {
    // A: a receiver that always answers 200. B: fails (500), then times out until it recovers.
    // C: never answers (a dead endpoint), with orders of its own.
    let recovered = false;
    const a = await receiver(() => 200);
    const b = await receiver((index) => (index === 0 ? 500 : recovered ? 200 : 'hang'));
    const c = await receiver(() => 'hang');
    const [alice, bob, carol] = [
      await createUser('Alice'),
      await createUser('Bob'),
      await createUser('Carol'),
    ];
    const secrets = {
      a: (await addWebhook(alice, a.url)).secret,
      b: (await addWebhook(bob, b.url)).secret,
      c: (await addWebhook(carol, c.url)).secret,
    };
    notifier = await startNotifier();

    const carolOrders = [await buy(carol), await buy(carol), await buy(carol)];
    await eventually(
      async () => c.receiver.received.length,
      (count) => count >= 2,
      20_000,
    );
    const bobOrder = await buy(bob);
    const alicePlacedAt = Date.now();
    const aliceOrders = [await buy(alice), await buy(alice)];

    // Alice's events arrive sooner than one of the dead endpoint's attempts takes to time out:
    // the dead endpoint ties up its own attempts only, never the loop.
    await eventually(
      async () => firstArrivals(a.receiver).length,
      (count) => count >= 4,
      20_000,
    );
    expect(firstArrivals(a.receiver).sort()).toEqual(expectedEvents(aliceOrders).sort());
    expect(
      Math.max(...a.receiver.received.map((request) => request.receivedAt)) - alicePlacedAt,
    ).toBeLessThan(TIMEOUT_MS);

    // Bob's first event failed (500), then timed out; it is retried with backoff meanwhile.
    const failing = await eventually(
      () => deliveriesOf(bob),
      (deliveries) =>
        deliveries.some(
          (d) => d.event === 'ORDER_IN_PROGRESS' && d.attempts >= 2 && d.lastResponseCode === null,
        ),
      30_000,
    );
    const bobFirst = failing.find((d) => d.event === 'ORDER_IN_PROGRESS')!;
    expect(bobFirst).toMatchObject({
      status: 'PENDING',
      url: b.url,
      order: { id: bobOrder },
      lastError: `no answer within ${TIMEOUT_MS} ms`,
    });
    expect(bobFirst.nextAttemptAt).not.toBeNull();
    expect(b.receiver.received[0]).toBeDefined();
    // In order per order: the COMPLETED event waits behind the one not yet delivered.
    expect(b.receiver.bodies().every((body) => body.type === 'order.in_progress')).toBe(true);

    // kill -9 mid-retry; events keep coming while no notifier runs.
    await notifier.kill('SIGKILL');
    notifier = undefined;
    const aliceWhileDown = await buy(alice);
    recovered = true;
    notifier = await startNotifier();

    await eventually(
      async () => firstArrivals(b.receiver).length,
      (count) => count >= 2,
      45_000,
    );
    await eventually(
      async () => firstArrivals(a.receiver).length,
      (count) => count >= 6,
      45_000,
    );

    // Nothing lost, nothing extra (after dropping repeats by id), and every order's events in order.
    expect(firstArrivals(a.receiver).sort()).toEqual(expectedEvents([...aliceOrders, aliceWhileDown]).sort());
    expect(firstArrivals(b.receiver)).toEqual(expectedEvents([bobOrder]));
    for (const order of [...aliceOrders, aliceWhileDown]) {
      const arrivals = firstArrivals(a.receiver).filter((id) => id.startsWith(`evt_order_${order}_`));
      expect(arrivals).toEqual(expectedEvents([order]));
    }

    // Every request, repeats included, is signed with its endpoint's secret over its exact body.
    for (const [name, target] of [
      ['a', a],
      ['b', b],
      ['c', c],
    ] as const) {
      for (const request of target.receiver.received) {
        expect(
          signatureVerifies(secrets[name], request.body, request.headers['webhook-signature'] as string),
        ).toBe(true);
        const otherSecret = secrets[name === 'a' ? 'b' : 'a'];
        expect(
          signatureVerifies(otherSecret, request.body, request.headers['webhook-signature'] as string),
        ).toBe(false);
        expect(request.headers['webhook-id']).toBe((JSON.parse(request.body) as { id: string }).id);
      }
    }
    const body = a.receiver.bodies().find((sent) => sent.id === `evt_order_${aliceOrders[0]}_completed`)!;
    expect(body).toMatchObject({
      type: 'order.completed',
      data: { orderId: aliceOrders[0], status: 'COMPLETED', order: { id: aliceOrders[0], total: PRICE } },
    });

    // The deliveries as the API shows them.
    const bobs = await eventually(
      () => deliveriesOf(bob),
      (deliveries) => deliveries.length === 2 && deliveries.every((d) => d.status === 'DELIVERED'),
      10_000,
    );
    expect(
      bobs.map(({ event, status, lastResponseCode, nextAttemptAt }) => ({
        event,
        status,
        lastResponseCode,
        nextAttemptAt,
      })),
    ).toEqual([
      { event: 'ORDER_COMPLETED', status: 'DELIVERED', lastResponseCode: 200, nextAttemptAt: null },
      { event: 'ORDER_IN_PROGRESS', status: 'DELIVERED', lastResponseCode: 200, nextAttemptAt: null },
    ]);
    expect(bobs[1]!.attempts).toBeGreaterThanOrEqual(3);

    // The dead endpoint: never more than two attempts at once, all still pending; removing it
    // cancels them.
    expect(c.receiver.maxOpen).toBeLessThanOrEqual(2);
    const carols = await deliveriesOf(carol);
    expect(new Set(carols.map((d) => d.order.id))).toEqual(new Set(carolOrders));
    expect(carols.every((d) => d.status === 'PENDING')).toBe(true);
    const [{ id: carolWebhook }] = (
      await expectData<{ webhooks: Array<{ id: string }> }>(
        url,
        `{ webhooks { id } }`,
        {},
        await asUser(carol),
      )
    ).webhooks as [{ id: string }];
    await expectData(
      url,
      `mutation ($id: ID!) { removeWebhook(id: $id) { id } }`,
      { id: carolWebhook },
      await asUser(carol),
    );
    expect((await deliveriesOf(carol)).every((d) => d.status === 'CANCELLED')).toBe(true);
  }, 180_000);
});
