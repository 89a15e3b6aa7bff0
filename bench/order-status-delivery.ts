import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createKafka, ensureTopics } from '@brokerage/kafka';
import { createLogger, encodeJson } from '@brokerage/service';
import { type VerificationOutcome } from '@brokerage/verifier-contract';
import { subscribe, type Subscription } from '../test/support/subscriptions';
import { BENCH_STOCK_ID, graphql, startBenchStack } from './stack';
import { ensureKafka, percentile, quick, report, root, runStandalone } from './support';

// Scenario: 1,000 clients each watch one IN_PROGRESS order over graphql-ws. For each order an
// outcome is published to Kafka (as the verifier does); how long until its client receives the
// final status? Through: the orders service's consumer, its database, its outbox relay, Redis
// pub/sub, the gateway. Beside it, at the same time, the bare Kafka produce-to-consume latency
// (target: delivery p99 within 3x of the bare p99). Then the memory of one gateway process holding
// 10,000 idle subscriptions (target: under 1 GiB).
//
// The two are sampled interleaved, half a pace apart, rather than one after the other: a p99 is the
// tail, and on a shared 2-core machine a neighbour's burst during one 20 s window but not the other
// would swing the ratio several-fold between consecutive runs. Interleaved, both see the same machine.
// The bare loop alone, on a quiet stack just before, is printed too, and its ratio beside.

const ORDERS = Number(process.env.BENCH_SUBSCRIBERS ?? (quick ? 50 : 1_000));
// The first outcomes of each measurement are its warm-up and are not counted: they run code paths
// (the outcome's transaction, answering from the event, kafkajs' consumer) for the first time, and
// a p99 of 1,000 is its 10 slowest.
const WARMUP = Number(process.env.BENCH_WARMUP ?? (quick ? 5 : 50));
const IDLE = Number(process.env.BENCH_IDLE_SUBSCRIPTIONS ?? (quick ? 500 : 10_000));
// One outcome every 20 ms (50 a second) for both measurements: latency, not a backlog, is measured.
const PACE_MS = Number(process.env.BENCH_PACE_MS ?? 20);
const logger = createLogger({ service: 'bench', level: 'silent' });
const STOCK_ID = BENCH_STOCK_ID;

const rssMb = (pid: number, field = 'VmRSS') =>
  Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`${field}:\\s+(\\d+)`))?.[1] ?? 0) /
  1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * BENCH_SAMPLES=1: every outcome's and bare message's send time (Unix ms) and latency (ms; null if
 * never delivered) in bench/results/order-status-delivery.samples.json, to line the slow ones up
 * with what the processes did at that moment (SERVICE_NODE_FLAGS=--trace-gc, SERVICE_LOG_DIR).
 */
function writeSamples(
  delivery: Array<[sentAt: number, deliveredAt: number | undefined]>,
  bare: ReadonlyArray<readonly [sentAt: number, ms: number | undefined]>,
): void {
  const unixMs = (at: number) => Math.round((performance.timeOrigin + at) * 1000) / 1000;
  const dir = path.join(root, 'bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'order-status-delivery.samples.json'),
    JSON.stringify({
      warmup: WARMUP,
      delivery: delivery.map(([at, done]) => [unixMs(at), done === undefined ? null : done - at]),
      bare: bare.map(([at, ms]) => [unixMs(at), ms ?? null]),
    }),
  );
}

/** A plain kafkajs producer and consumer on a topic of their own: Kafka's own latency, nothing else. */
async function startBareKafkaLoop(brokers: string[], topic: string) {
  const kafka = createKafka({ clientId: 'bench-bare', brokers, logger });
  const consumer = kafka.consumer({ groupId: `${topic}-group`, maxWaitTimeInMs: 100 });
  const producer = kafka.producer();
  await Promise.all([consumer.connect(), producer.connect()]);
  await consumer.subscribe({ topic, fromBeginning: true });
  const sentAt = new Map<string, number>();
  // By message index, so that the warm-up's can be left out.
  const latencies: number[] = [];
  let received = 0;
  let resolveDone: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  await consumer.run({
    eachMessage: async ({ message }) => {
      const index = message.key!.toString();
      latencies[Number(index)] = performance.now() - sentAt.get(index)!;
      if ((received += 1) === ORDERS) resolveDone();
    },
  });
  await sleep(1_000); // the group has joined
  return {
    /** Produce-to-consume latencies after the warm-up. */
    measured: () => latencies.slice(WARMUP).filter((ms) => ms !== undefined),
    /** Every message's send time and latency, warm-up included, for BENCH_SAMPLES. */
    samples: () => latencies.map((ms, index) => [sentAt.get(String(index))!, ms] as const),
    send(index: number) {
      sentAt.set(String(index), performance.now());
      void producer.send({ topic, acks: -1, messages: [{ key: String(index), value: 'x' }] });
    },
    async stop() {
      await Promise.race([done, sleep(30_000)]);
      await Promise.all([consumer.disconnect(), producer.disconnect()]);
    },
  };
}

export async function run() {
  const brokers = await ensureKafka();
  const suffix = Date.now().toString(36);
  const bareTopic = `bench.${suffix}.bare`;
  const bareAloneTopic = `bench.${suffix}.bare-alone`;
  const stack = await startBenchStack(`bench:${suffix}:status:`);
  const { url, kafka, topics, gateway } = stack;
  await ensureTopics(
    kafka,
    [bareTopic, bareAloneTopic].map((topic) => ({ topic, numPartitions: 3, replicationFactor: 1 })),
  );
  const subscriptions: Array<Subscription<unknown>> = [];
  try {
    const createUser = { id: stack.userId };
    const orderIds: string[] = [];
    for (let i = 0; i < ORDERS; i += 1) {
      const { buyStock } = await graphql<{ buyStock: { order: { id: string } } }>(
        url,
        `mutation ($userId: ID!) { buyStock(input: { userId: $userId, stockId: "${STOCK_ID}", quantity: 1 }) { order { id } } }`,
        { userId: createUser.id },
        stack.asUser,
      );
      orderIds.push(buyStock.order.id);
    }

    // One client per order, each waiting for its order's first (IN_PROGRESS) state.
    const watch = `subscription ($id: ID!) { orderStatus(orderId: $id) { status message } }`;
    // Delivered: the moment the client holds its order's second message, the final status.
    const deliveredAt = new Map<string, number>();
    const watches: Array<Subscription<{ orderStatus: { status: string } }>> = [];
    for (const id of orderIds) {
      const subscription = subscribe<{ orderStatus: { status: string } }>(url, watch, { id }, stack.asUser);
      watches.push(subscription);
      void subscription.received(2).then(() => deliveredAt.set(id, performance.now()));
    }
    subscriptions.push(...watches);
    await Promise.all(watches.map((subscription) => subscription.received(1)));

    const bareAlone = await startBareKafkaLoop(brokers, bareAloneTopic);
    for (let index = 0; index < ORDERS; index += 1) {
      bareAlone.send(index);
      await sleep(PACE_MS);
    }
    await bareAlone.stop();

    const bare = await startBareKafkaLoop(brokers, bareTopic);
    const producer = kafka.producer();
    await producer.connect();
    const publishedAt = new Map<string, number>();
    for (const [index, orderId] of orderIds.entries()) {
      bare.send(index);
      await sleep(PACE_MS / 2);
      const outcome: VerificationOutcome = {
        orderId,
        outcome: 'APPROVED',
        decidedAt: new Date().toISOString(),
      };
      publishedAt.set(orderId, performance.now());
      void producer.send({
        topic: topics.VERIFICATION_OUTCOMES_TOPIC,
        acks: -1,
        messages: [{ key: orderId, value: encodeJson(outcome) }],
      });
      await sleep(PACE_MS / 2);
    }
    const deadline = Date.now() + 120_000;
    while (deliveredAt.size < ORDERS && Date.now() < deadline) await sleep(50);
    await Promise.all([producer.disconnect(), bare.stop()]);
    const delivery = orderIds
      .slice(WARMUP)
      .filter((id) => deliveredAt.has(id))
      .map((id) => deliveredAt.get(id)! - publishedAt.get(id)!);
    if (process.env.BENCH_SAMPLES === '1')
      writeSamples(
        orderIds.map((id) => [publishedAt.get(id)!, deliveredAt.get(id)]),
        bare.samples(),
      );
    const completed = watches.filter(
      ({ results }) => results.at(-1)?.data?.orderStatus.status === 'COMPLETED',
    ).length;
    for (const subscription of subscriptions.splice(0)) await subscription.dispose();

    // Memory: 10,000 idle subscriptions (orders that stay IN_PROGRESS) held by one gateway.
    const { buyStock: idleOrder } = await graphql<{ buyStock: { order: { id: string } } }>(
      url,
      `mutation ($userId: ID!) { buyStock(input: { userId: $userId, stockId: "${STOCK_ID}", quantity: 1 }) { order { id } } }`,
      { userId: createUser.id },
      stack.asUser,
    );
    const gatewayPid = gateway.child.pid!;
    const before = rssMb(gatewayPid);
    for (let i = 0; i < IDLE; i += 1) {
      subscriptions.push(subscribe(url, watch, { id: idleOrder.order.id }, stack.asUser));
      if (i % 500 === 499)
        await Promise.all(subscriptions.slice(-500).map((subscription) => subscription.received(1)));
    }
    await Promise.all(subscriptions.map((subscription) => subscription.received(1)));
    await sleep(2_000);
    const holding = rssMb(gatewayPid);

    report(
      'order-status-delivery',
      [
        { name: 'subscribers (one order each)', value: ORDERS, unit: '' },
        { name: 'of their outcomes, the first ones, a warm-up not measured', value: WARMUP, unit: '' },
        { name: 'outcomes published per second (both measurements)', value: 1_000 / PACE_MS, unit: '/s' },
        { name: 'delivered (measured)', value: delivery.length, unit: '' },
        { name: 'subscribers that saw COMPLETED, as published', value: completed, unit: '' },
        { name: 'outcome in Kafka to client, p50', value: percentile(delivery, 50), unit: 'ms' },
        { name: 'outcome in Kafka to client, p99', value: percentile(delivery, 99), unit: 'ms' },
        { name: 'bare Kafka produce to consume, p50', value: percentile(bare.measured(), 50), unit: 'ms' },
        { name: 'bare Kafka produce to consume, p99', value: percentile(bare.measured(), 99), unit: 'ms' },
        {
          name: 'bare Kafka alone, on the quiet stack just before, p50',
          value: percentile(bareAlone.measured(), 50),
          unit: 'ms',
        },
        {
          name: 'bare Kafka alone, on the quiet stack just before, p99',
          value: percentile(bareAlone.measured(), 99),
          unit: 'ms',
        },
        { name: 'gateway RSS before the idle subscriptions', value: before, unit: 'MB' },
        {
          name: `gateway RSS holding ${IDLE.toLocaleString('en-US')} idle subscriptions`,
          value: holding,
          unit: 'MB',
        },
      ],
      [
        {
          name: 'delivery p99 / bare Kafka p99',
          value: percentile(delivery, 99) / percentile(bare.measured(), 99),
          target: '<= 3x',
        },
        {
          name: 'delivery p99 / bare Kafka alone p99 (not judged: different windows)',
          value: percentile(delivery, 99) / percentile(bareAlone.measured(), 99),
        },
        { name: 'gateway RSS with idle subscriptions / 1 GiB', value: holding / 1024, target: '< 1x' },
      ],
    );
  } finally {
    await Promise.all(subscriptions.map((subscription) => subscription.dispose()));
    await stack.stop();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [bareTopic, bareAloneTopic] }).catch(() => undefined);
    await admin.disconnect();
  }
}

if (require.main === module) runStandalone(run);
