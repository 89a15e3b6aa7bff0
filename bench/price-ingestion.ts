import { createKafka, ensureTopics } from '@brokerage/kafka';
import { createRedis } from '@brokerage/redis';
import { createLogger, loadConfig } from '@brokerage/service';
import { encodePriceQuote, type PriceQuote } from '@brokerage/price-fetcher-contract';
import type { Admin, Kafka } from 'kafkajs';
import { createApp } from '../workers/price-ingestor/src/app';
import { priceIngestorConfigSchema } from '../workers/price-ingestor/src/config';
import { ensureKafka, median, quick, report, runStandalone, withPeakRss } from './support';

// Scenario: 100,000 price messages already in the topic. How fast does the price ingestor turn
// them into minute series in Redis, against a bare kafkajs consumer that does nothing with them,
// measured in the same run on the same topic? Target: ingestor >= 0.7x bare.

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? (quick ? 10_000 : 100_000));
const STOCKS = 50;
// Each side is measured this many times, interleaved: a run lasts a quarter of a second, so one late
// group join or a neighbour's burst on the shared machine swings a single one, and a median of a
// few rounds still moves between runs (bench/README.md, "Price ingestion").
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (quick ? 1 : 9));
const logger = createLogger({ service: 'bench', level: 'silent' });

/** A trading day of ticks spread over 50 stocks and 210 minutes, in trading order. */
function quotes(): PriceQuote[] {
  const list: PriceQuote[] = [];
  for (let i = 0; i < MESSAGES; i += 1) {
    const stock = i % STOCKS;
    const second = 9 * 3600 + Math.floor((i / MESSAGES) * 210 * 60);
    const time = [Math.floor(second / 3600), Math.floor((second % 3600) / 60), second % 60]
      .map((part) => String(part).padStart(2, '0'))
      .join('');
    list.push({
      stockId: String(1_000_000 + stock),
      symbol: `bench${stock}`,
      date: '20261121',
      time,
      seq: i,
      price: 10_000 + (i % 97),
    });
  }
  return list;
}

/**
 * Puts the messages in the topic. A function of its own so that the 100,000 quotes are garbage by
 * the time anything is measured: a large live heap slows every collection of what is.
 */
async function produce(kafka: Kafka, topic: string): Promise<void> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const all = quotes();
  for (let i = 0; i < all.length; i += 5_000) {
    await producer.send({
      topic,
      acks: -1,
      messages: all
        .slice(i, i + 5_000)
        .map((quote) => ({ key: quote.stockId, value: encodePriceQuote(quote) })),
    });
  }
  await producer.disconnect();
}

/**
 * Returns once the group has committed the topic's end on every partition. The end of a run is
 * when this sees it, so it asks often: a pause of 20 ms between asks would see the end of a
 * 250 ms run up to 20 ms late, 8 % of noise on either side of the ratio. One offset fetch every
 * 2 ms is little work for the broker, and both sides are watched the same way.
 */
async function waitForGroupToFinish(admin: Admin, groupId: string, topic: string, timeoutMs = 300_000) {
  const ends = await admin.fetchTopicOffsets(topic);
  const target = new Map(ends.map(({ partition, high }) => [partition, high]));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    if (committed!.partitions.every(({ partition, offset }) => offset === target.get(partition))) return;
    if (Date.now() > deadline) throw new Error(`${groupId} did not finish within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

// Leaving the group waits for the consumer's last fetch, a long poll of up to 5 s at the end of the
// topic; nothing is measured then, so runs leave in the background and are awaited at the end.
const leaving: Array<Promise<unknown>> = [];

async function bareConsume(kafka: Kafka, admin: Admin, topic: string, groupId: string): Promise<number> {
  // Timed from before connecting, as the ingestor is timed from before its start: both include joining the group.
  const started = process.hrtime.bigint();
  const consumer = kafka.consumer({ groupId });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  await consumer.run({
    partitionsConsumedConcurrently: 3,
    eachBatch: async ({ batch }) => {
      seen += batch.messages.length;
    },
  });
  await waitForGroupToFinish(admin, groupId, topic);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  leaving.push(consumer.disconnect());
  if (seen < MESSAGES) throw new Error(`bare consumer saw ${seen} of ${MESSAGES}`);
  return MESSAGES / seconds;
}

async function ingest(
  brokers: string[],
  admin: Admin,
  topic: string,
  groupId: string,
  prefix: string,
): Promise<number> {
  const app = createApp(
    loadConfig(priceIngestorConfigSchema, {
      PORT: '0',
      KAFKA_BROKERS: brokers.join(','),
      PRICES_TOPIC: topic,
      CONSUMER_GROUP: groupId,
      PRICES_KEY_PREFIX: prefix,
      LOG_LEVEL: 'silent',
    }),
    logger,
  );
  const started = process.hrtime.bigint();
  await app.start();
  if (process.env.BENCH_DEBUG)
    console.log('start took', Number(process.hrtime.bigint() - started) / 1e6, 'ms');
  await waitForGroupToFinish(admin, groupId, topic);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  leaving.push(app.stop());
  return MESSAGES / seconds;
}

export async function run() {
  const brokers = await ensureKafka();
  const kafka = createKafka({ clientId: 'bench', brokers, logger });
  const suffix = Date.now().toString(36);
  const topic = `bench.prices.${suffix}`;
  const prefix = `bench:${suffix}:`;
  await ensureTopics(kafka, [{ topic, numPartitions: 3, replicationFactor: 1 }]);
  const admin = kafka.admin();
  await admin.connect();
  const redis = createRedis({
    url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    keyPrefix: '',
    logger,
  });
  try {
    await produce(kafka, topic);

    // Warm-up, one pass of each, not counted: the broker's page cache, and the JIT for both code
    // paths (the ingestor's reader and store, and its script loaded into Redis).
    await bareConsume(kafka, admin, topic, `bench-warmup-${suffix}`);
    await ingest(brokers, admin, topic, `bench-ingestor-warmup-${suffix}`, `${prefix}warmup:`);
    const bare: number[] = [];
    const ingestor: number[] = [];
    let peakRssMb = 0;
    for (let round = 0; round < ROUNDS; round += 1) {
      const measureBare = async () =>
        bare.push(await bareConsume(kafka, admin, topic, `bench-bare-${suffix}-${round}`));
      const measureIngestor = async () => {
        const measured = await withPeakRss(() =>
          ingest(brokers, admin, topic, `bench-ingestor-${suffix}-${round}`, `${prefix}${round}:`),
        );
        ingestor.push(measured.result);
        peakRssMb = Math.max(peakRssMb, measured.peakRssMb);
      };
      // Each side goes first in every other round: the run before a measurement is still leaving
      // the group in the background, and neither side should always follow the same one.
      const [first, second] =
        round % 2 === 0 ? [measureBare, measureIngestor] : [measureIngestor, measureBare];
      await first();
      await second();
    }
    const best = (values: number[]) => Math.max(...values);
    report(
      'price-ingestion',
      [
        { name: `messages`, value: MESSAGES, unit: '' },
        { name: `bare kafkajs consume loop, median of ${ROUNDS}`, value: median(bare), unit: 'msg/s' },
        { name: `price ingestor into Redis, median of ${ROUNDS}`, value: median(ingestor), unit: 'msg/s' },
        { name: `bare kafkajs consume loop, best of ${ROUNDS}`, value: best(bare), unit: 'msg/s' },
        { name: `price ingestor into Redis, best of ${ROUNDS}`, value: best(ingestor), unit: 'msg/s' },
        { name: 'peak RSS of the process during ingestion', value: peakRssMb, unit: 'MB' },
      ],
      [
        // Judged on medians: a single lucky (or disturbed) run moves a best-of ratio a lot.
        {
          name: 'ingestor / bare consume (medians)',
          value: median(ingestor) / median(bare),
          target: '>= 0.7x',
        },
        { name: 'ingestor / bare consume (bests)', value: best(ingestor) / best(bare) },
      ],
    );
  } finally {
    await Promise.allSettled(leaving.splice(0));
    const keys = await redis.keys(`${prefix}*`);
    for (let i = 0; i < keys.length; i += 1_000) await redis.del(...keys.slice(i, i + 1_000));
    redis.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
}

if (require.main === module) runStandalone(run);
