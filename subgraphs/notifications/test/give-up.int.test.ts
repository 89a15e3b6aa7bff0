import { loadConfig } from '@brokerage/service';
import { asAdmin, asUser } from '../../../test/support/auth';
import { expectData } from '../../../test/support/graphql';
import { startPlatformStack, type PlatformStack } from '../../../test/support/platform-stack';
import { eventually } from '../../../test/support/price-series';
import { testLogger } from '../../../test/support/services';
import { createApp, type NotifierApp } from '../src/notifier/app';
import { notifierConfigSchema } from '../src/notifier/config';
import { WebhookReceiver } from './support/receiver';

const STOCK_ID = '35425587644337450';

interface Delivery {
  event: string;
  status: string;
  attempts: number;
  lastResponseCode: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
}

describe('webhook deliveries that cannot be made', () => {
  let stack: PlatformStack;
  let notifier: NotifierApp;
  const receivers: WebhookReceiver[] = [];

  beforeAll(async () => {
    stack = await startPlatformStack({
      verification: { stallLimitMs: 10_000, decide: () => ({ delayMs: 50, verified: true }) },
    });
    await stack.listStock({ id: STOCK_ID, symbol: 'hook2', price: 500 });
    notifier = createApp(
      loadConfig(notifierConfigSchema, {
        ...stack.notifierEnv,
        NODE_ENV: 'test',
        PORT: '0',
        WEBHOOK_TIMEOUT_MS: '2000',
        WEBHOOK_RETRY_BASE_MS: '200',
        WEBHOOK_RETRY_MAX_DELAY_MS: '400',
        // A short life: a delivery not made within 3 s of its event is given up.
        WEBHOOK_RETRY_FOR_MS: '3000',
        DELIVERY_POLL_MS: '200',
      }),
      testLogger('notifier'),
    );
    await notifier.start();
  });

  afterAll(async () => {
    await notifier.stop();
    await Promise.all(receivers.map((receiver) => receiver.stop()));
    await stack.stop();
  });

  const userWithWebhook = async (
    name: string,
    answer: ConstructorParameters<typeof WebhookReceiver>[0],
    redirectTo?: string,
  ) => {
    const receiver = new WebhookReceiver(answer);
    receiver.redirectTo = redirectTo;
    receivers.push(receiver);
    const url = await receiver.start();
    const { createUser } = await expectData<{ createUser: { id: string } }>(
      stack.gatewayUrl,
      `mutation ($name: String!) { createUser(input: { name: $name, credit: 100000 }) { id } }`,
      { name },
      await asAdmin(),
    );
    const as = await asUser(createUser.id);
    await expectData(
      stack.gatewayUrl,
      `mutation ($url: String!) { addWebhook(url: $url, events: [ORDER_IN_PROGRESS, ORDER_COMPLETED]) { secret } }`,
      { url },
      as,
    );
    await expectData(
      stack.gatewayUrl,
      `mutation { buyStock(input: { stockId: "${STOCK_ID}", quantity: 1 }) { order { id } } }`,
      {},
      as,
    );
    const deliveries = () =>
      expectData<{ user: { webhookDeliveries: Delivery[] } }>(
        stack.gatewayUrl,
        `query ($id: ID!) { user(id: $id) { webhookDeliveries {
          event status attempts lastResponseCode lastError nextAttemptAt
        } } }`,
        { id: createUser.id },
        as,
      ).then((data) => data.user.webhookDeliveries);
    return { receiver, deliveries };
  };

  it('gives a failing delivery up after its retry window, then sends the order’s next event', async () => {
    // The first event always fails; the order's next one succeeds once it is allowed to go.
    const { receiver, deliveries } = await userWithWebhook('Gus', (_index, body) =>
      body.includes('"order.in_progress"') ? 500 : 200,
    );
    const settled = await eventually(
      deliveries,
      (rows) => rows.length === 2 && rows.every((row) => row.status !== 'PENDING'),
      20_000,
    );
    expect(settled).toEqual([
      expect.objectContaining({ event: 'ORDER_COMPLETED', status: 'DELIVERED', lastResponseCode: 200 }),
      expect.objectContaining({
        event: 'ORDER_IN_PROGRESS',
        status: 'FAILED',
        lastResponseCode: 500,
        lastError: 'answered 500',
        nextAttemptAt: null,
      }),
    ]);
    expect(settled[1]!.attempts).toBeGreaterThan(1);
    // Nothing of the completed order went out before its first event was given up.
    const bodies = receiver.bodies();
    const firstCompleted = bodies.findIndex((body) => body.type === 'order.completed');
    expect(bodies.slice(0, firstCompleted).every((body) => body.type === 'order.in_progress')).toBe(true);
    expect(bodies.slice(firstCompleted).every((body) => body.type === 'order.completed')).toBe(true);
  });

  it('never follows a redirect: a 3xx is a failed attempt, and its target hears nothing', async () => {
    const target = new WebhookReceiver(() => 200);
    receivers.push(target);
    const targetUrl = await target.start();
    const { receiver, deliveries } = await userWithWebhook('Rex', () => 307, targetUrl);
    const rows = await eventually(deliveries, (found) => found.some((row) => row.attempts >= 2), 20_000);
    const retried = rows.find((row) => row.attempts >= 2)!;
    expect(retried).toMatchObject({ lastResponseCode: 307, lastError: 'redirect (307) not followed' });
    expect(['PENDING', 'FAILED']).toContain(retried.status);
    expect(receiver.received.length).toBeGreaterThanOrEqual(2);
    expect(target.received).toEqual([]);
  });
});
