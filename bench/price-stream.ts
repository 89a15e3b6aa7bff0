import { readFileSync } from 'node:fs';
import { createRedis } from '@brokerage/redis';
import { createLogger } from '@brokerage/service';
import { type PriceQuote } from '@brokerage/price-fetcher-contract';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { MinuteSeriesStore } from '../workers/price-ingestor/src/minute-series-store';
import { cpuMsOf } from './federated-read-load';
import { BENCH_STOCK_ID, graphql, startBenchStack } from './stack';
import { percentile, quick, report, runStandalone } from './support';

// Scenario: 1,000 clients, each subscribed over graphql-ws to priceChanged on the same 3 stocks.
// Points are written as the price ingestor writes them (its own script, which writes the series
// and announces the point on the stock's Redis channel), one every PACE_MS, the stocks in turn;
// how long from the write until each client holds the point? Through: Redis pub/sub, the gateway's
// one subscription per stock, its fan-out to every socket. Beside it, interleaved half a pace
// apart so that both see the same machine, the bare Redis pub/sub latency with the same fan-out:
// PUBLISH on a channel of its own to as many plain subscriber connections as there are clients
// (target: client p99 within 3x of that bare p99), and, as a second reference, PUBLISH to one
// plain subscriber (one hop, no fan-out: what the fan-out itself costs). Then the memory of the
// gateway process holding the subscriptions.
//
// The pace (a point every 500 ms, 2,000 deliveries a second at 1,000 clients) is latency, not
// throughput: a real feed writes one point a minute per stock, 60 a minute in the 60x replay.
//
// All clients watch the same 3 stocks: the most favourable case for the fan-out (one Redis
// message per point reaches every client, and the gateway renders the selection once per
// subscription). Clients watching different stocks would share less; bench/README.md says so.

const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? (quick ? 50 : 1_000));
const POINTS = Number(process.env.BENCH_POINTS ?? (quick ? 20 : 100));
// The first points are a warm-up, not counted (first runs of the gateway's code paths).
const WARMUP = Number(process.env.BENCH_WARMUP ?? (quick ? 3 : 15));
const PACE_MS = Number(process.env.BENCH_PACE_MS ?? (quick ? 100 : 500));
const SYMBOLS = ['stock1', 'pstock2', 'pstock3'];
const STOCK_IDS = [BENCH_STOCK_ID, '35425587644337450', '65883838195688438'];
const WATCH = `subscription ($symbols: [String!]!) { priceChanged(symbols: $symbols) { symbol price at } }`;
const logger = createLogger({ service: 'bench', level: 'silent' });

const rssMb = (pid: number) =>
  Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)?.[1] ?? 0) / 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The i-th point of the run: its own price (the key clients report it by) and a minute of its own. */
function pointQuote(index: number): PriceQuote {
  const stock = index % SYMBOLS.length;
  const minute = 1 + Math.floor(index / SYMBOLS.length);
  const time = `${String(9 + Math.floor(minute / 60)).padStart(2, '0')}${String(minute % 60).padStart(2, '0')}00`;
  return {
    stockId: STOCK_IDS[stock]!,
    symbol: SYMBOLS[stock]!,
    date: '20261121',
    time,
    seq: index + 10,
    price: 1_000_000 + index,
  };
}

export async function run() {
  const suffix = Date.now().toString(36);
  const stack = await startBenchStack(`bench:${suffix}:status:`);
  const series = createRedis({ url: 'redis://127.0.0.1:6379', keyPrefix: stack.pricesKeyPrefix, logger });
  const publisher = createRedis({ url: 'redis://127.0.0.1:6379', keyPrefix: '', logger });
  const bareSubscriber = createRedis({ url: 'redis://127.0.0.1:6379', keyPrefix: '', logger });
  const bareFanOut = Array.from({ length: SUBSCRIBERS }, () =>
    createRedis({ url: 'redis://127.0.0.1:6379', keyPrefix: '', logger }),
  );
  const clients: Client[] = [];
  try {
    const admin = await stack.signAs('bench-admin', true);
    for (const [index, symbol] of SYMBOLS.entries()) {
      if (index === 0) continue; // stock1 is the stack's own
      await graphql(
        stack.url,
        `
          mutation ($input: CreateStockInput!) {
            createStock(input: $input) {
              id
            }
          }
        `,
        { input: { id: STOCK_IDS[index], symbol, name: symbol } },
        admin,
      );
    }
    const store = new MinuteSeriesStore(series, { pointsChannelPrefix: stack.pricePointsChannelPrefix });
    // Every stock has a point at 09:00 before the clients come: the first thing each client gets.
    await store.apply(
      SYMBOLS.map((symbol, index) => ({ ...pointQuote(index), time: '090000', seq: 1, price: 100 })),
    );

    const gatewayPid = stack.gateway.child.pid!;
    const rssBefore = rssMb(gatewayPid);
    // receivedAt[point index][client] = when that client held the point.
    const receivedAt: number[][] = Array.from({ length: POINTS }, () => []);
    let initial = 0;
    let allInitial: () => void;
    const initialDone = new Promise<void>((resolve) => (allInitial = resolve));
    for (let client = 0; client < SUBSCRIBERS; client += 1) {
      const ws = createClient({
        url: stack.url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        retryAttempts: 0,
      });
      clients.push(ws);
      ws.subscribe<{ priceChanged: { price: number } }>(
        { query: WATCH, variables: { symbols: SYMBOLS } },
        {
          next: (result) => {
            const now = performance.now();
            const price = result.data?.priceChanged.price ?? 0;
            if (price >= 1_000_000) receivedAt[price - 1_000_000]![client] = now;
            else if ((initial += 1) === SUBSCRIBERS * SYMBOLS.length) allInitial();
          },
          error: () => undefined,
          complete: () => undefined,
        },
      );
      if (client % 100 === 99) await sleep(50);
    }
    await initialDone;
    await sleep(1_000);
    const rssHolding = rssMb(gatewayPid);
    const channels = SYMBOLS.map((symbol) => `${stack.pricePointsChannelPrefix}${symbol}`);
    const numsub = (await publisher.pubsub('NUMSUB', ...channels)) as Array<string | number>;
    const redisSubscriptions = channels.map((_, index) => Number(numsub[index * 2 + 1]));

    // The bare loop: one plain subscriber on a channel of its own.
    const bareChannel = `bench:${suffix}:bare`;
    const bareSentAt: number[] = [];
    const bareLatency: number[] = [];
    bareSubscriber.on('message', (_channel: string, message: string) => {
      const index = Number(message);
      bareLatency[index] = performance.now() - bareSentAt[index]!;
    });
    await bareSubscriber.subscribe(bareChannel);
    // The same fan-out, bare: a channel of its own heard by as many connections as there are clients.
    const fanOutChannel = `bench:${suffix}:bare-fan-out`;
    const fanOutSentAt: number[] = [];
    const fanOutAt: number[][] = Array.from({ length: POINTS }, () => []);
    await Promise.all(
      bareFanOut.map(async (connection, index) => {
        connection.on('message', (_channel: string, message: string) => {
          fanOutAt[Number(message)]![index] = performance.now();
        });
        await connection.subscribe(fanOutChannel);
      }),
    );

    const writtenAt: number[] = [];
    let rssPeak = rssHolding;
    const cpuBefore = cpuMsOf(gatewayPid);
    for (let index = 0; index < POINTS; index += 1) {
      bareSentAt[index] = performance.now();
      void publisher.publish(bareChannel, String(index));
      await sleep(PACE_MS / 4);
      fanOutSentAt[index] = performance.now();
      void publisher.publish(fanOutChannel, String(index));
      await sleep(PACE_MS / 4);
      writtenAt[index] = performance.now();
      void store.apply([pointQuote(index)]);
      await sleep(PACE_MS / 2);
      if (index % 10 === 0) rssPeak = Math.max(rssPeak, rssMb(gatewayPid));
    }
    const deadline = Date.now() + 60_000;
    const complete = () => receivedAt.every((clientsAt) => clientsAt.filter(Boolean).length === SUBSCRIBERS);
    while (!complete() && Date.now() < deadline) await sleep(50);
    rssPeak = Math.max(rssPeak, rssMb(gatewayPid));
    const gatewayCpuMs = cpuMsOf(gatewayPid) - cpuBefore;

    const delivery = receivedAt
      .slice(WARMUP)
      .flatMap((clientsAt, offset) =>
        clientsAt.filter(Boolean).map((at) => at - writtenAt[offset + WARMUP]!),
      );
    const delivered = receivedAt
      .slice(WARMUP)
      .reduce((sum, clientsAt) => sum + clientsAt.filter(Boolean).length, 0);
    const bare = bareLatency.slice(WARMUP).filter((ms) => ms !== undefined);
    const fanOut = fanOutAt
      .slice(WARMUP)
      .flatMap((at, offset) => at.filter(Boolean).map((ms) => ms - fanOutSentAt[offset + WARMUP]!));

    report(
      'price-stream',
      [
        { name: 'subscribers (each on the same 3 stocks)', value: SUBSCRIBERS, unit: '' },
        { name: 'points written (the stocks in turn)', value: POINTS, unit: '' },
        { name: 'of them, the first ones, a warm-up not measured', value: WARMUP, unit: '' },
        { name: 'points written per second (and bare messages)', value: 1_000 / PACE_MS, unit: '/s' },
        {
          name: 'deliveries measured (points x subscribers)',
          value: delivered,
          unit: `of ${(POINTS - WARMUP) * SUBSCRIBERS}`,
        },
        { name: 'point written to client, p50', value: percentile(delivery, 50), unit: 'ms' },
        { name: 'point written to client, p99', value: percentile(delivery, 99), unit: 'ms' },
        { name: 'bare Redis pub/sub, one subscriber, p50', value: percentile(bare, 50), unit: 'ms' },
        { name: 'bare Redis pub/sub, one subscriber, p99', value: percentile(bare, 99), unit: 'ms' },
        {
          name: `bare Redis pub/sub to ${SUBSCRIBERS.toLocaleString('en-US')} subscriber connections, p50`,
          value: percentile(fanOut, 50),
          unit: 'ms',
        },
        {
          name: `bare Redis pub/sub to ${SUBSCRIBERS.toLocaleString('en-US')} subscriber connections, p99`,
          value: percentile(fanOut, 99),
          unit: 'ms',
        },
        {
          name: 'Redis subscriptions of the gateway, per stock (PUBSUB NUMSUB)',
          value: Math.max(...redisSubscriptions),
          unit: '',
        },
        {
          name: 'gateway CPU per delivery (all points, warm-up included)',
          value: (gatewayCpuMs * 1_000) / (POINTS * SUBSCRIBERS),
          unit: 'us',
        },
        { name: 'gateway RSS before the subscribers', value: rssBefore, unit: 'MB' },
        { name: 'gateway RSS holding the subscriptions', value: rssHolding, unit: 'MB' },
        { name: 'gateway RSS, peak while points stream', value: rssPeak, unit: 'MB' },
      ],
      [
        {
          name: `client p99 / bare Redis pub/sub p99 to the same ${SUBSCRIBERS.toLocaleString('en-US')} connections`,
          value: percentile(delivery, 99) / percentile(fanOut, 99),
          target: '<= 3x',
        },
        {
          name: 'client p99 / bare Redis pub/sub p99 to one subscriber (no fan-out; not judged)',
          value: percentile(delivery, 99) / percentile(bare, 99),
        },
      ],
    );
  } finally {
    for (const client of clients) void client.dispose();
    series.disconnect();
    publisher.disconnect();
    bareSubscriber.disconnect();
    for (const connection of bareFanOut) connection.disconnect();
    await stack.stop();
  }
}

if (require.main === module) runStandalone(run);
