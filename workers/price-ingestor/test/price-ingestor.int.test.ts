import { createKafka, ensureTopics, topicConfig } from '@brokerage/kafka';
import { createRedis, type Redis } from '@brokerage/redis';
import { createLogger, loadConfig } from '@brokerage/service';
import { encodePriceQuote } from '@brokerage/price-fetcher-contract';
import type { Kafka } from 'kafkajs';
import { eventually, expectedSeriesFromCsv, quotesFromCsv } from '../../../test/support/price-series';
import {
  deletePrefixedKeys,
  deleteTopics,
  kafkaBrokers,
  testRedisUrl,
  uniqueSuffix,
} from '../../../test/support/services';
import { createApp, type PriceIngestorApp } from '../src/app';
import { priceIngestorConfigSchema } from '../src/config';

/** Deterministic shuffle, so a failure can be reproduced. */
function shuffled<T>(items: T[], seed: number): T[] {
  const copy = [...items];
  let state = seed;
  for (let i = copy.length - 1; i > 0; i -= 1) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = state % (i + 1);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

describe('price ingestor', () => {
  const suffix = uniqueSuffix();
  const topic = `test.prices.${suffix}`;
  const prefix = `test:${suffix}:`;
  let kafka: Kafka;
  let redis: Redis;
  let app: PriceIngestorApp;

  beforeAll(async () => {
    kafka = createKafka({
      clientId: 'ingestor-test',
      brokers: kafkaBrokers(),
      logger: createLogger({ service: 't', level: 'silent' }),
    });
    await ensureTopics(kafka, [{ topic, numPartitions: 3, replicationFactor: 1 }]);
    redis = createRedis({
      url: testRedisUrl,
      keyPrefix: prefix,
      logger: createLogger({ service: 't', level: 'silent' }),
    });
    app = createApp(
      loadConfig(priceIngestorConfigSchema, {
        PORT: '0',
        KAFKA_BROKERS: kafkaBrokers().join(','),
        PRICES_TOPIC: topic,
        CONSUMER_GROUP: `ingestor-${suffix}`,
        PRICES_KEY_PREFIX: prefix,
      }),
      createLogger({ service: 'price-ingestor', level: 'silent' }),
    );
    await app.start();
  });

  afterAll(async () => {
    await app.stop();
    await deletePrefixedKeys(redis, prefix);
    redis.disconnect();
    await deleteTopics(kafka, [topic]);
  });

  async function publish(values: Array<Buffer | string>, key = '1') {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: values.map((value) => ({ key, value })) });
    await producer.disconnect();
  }

  const readSeries = async (key: string) => JSON.parse((await redis.get(key)) ?? 'null') as unknown;

  it('builds the exact minute series from shuffled, duplicated quotes, skipping invalid messages', async () => {
    const quotes = quotesFromCsv('20261121');
    // Every quote twice, in a random order, and some garbage: the result must not depend on any of it.
    const messages = shuffled([...quotes, ...quotes], 7).map((quote) => encodePriceQuote(quote));
    await publish(['not json', JSON.stringify({ stockId: 'x' }), ...messages]);

    const expected = expectedSeriesFromCsv();
    for (const [symbol, series] of expected) {
      const actual = await eventually(
        () => readSeries(symbol),
        (value) => JSON.stringify(value) === JSON.stringify(series),
        20_000,
      );
      expect(actual).toEqual(series);
      expect(await readSeries(`${symbol}:20261121`)).toEqual(series);
      expect(await redis.get(`${symbol}:latest-date`)).toBe('20261121');
    }
    // The exact form an existing client reads: keys in order, integers, times as strings.
    expect(await redis.get('stock1')).toMatch(/^\{"time":\["090000","090100",.*\],"price":\[\d+(,\d+)*\]\}$/);
  });

  it('moves the bare key to a newer day and keeps older days under their date', async () => {
    const day2 = quotesFromCsv('20261122')
      .filter(({ symbol }) => symbol === 'stock2')
      .slice(0, 3);
    await publish(day2.map((quote) => encodePriceQuote(quote)));
    await eventually(
      () => redis.get('stock2:latest-date'),
      (date) => date === '20261122',
      20_000,
    );
    expect(await readSeries('stock2')).toEqual(await readSeries('stock2:20261122'));
    expect(await readSeries('stock2:20261121')).toEqual(expectedSeriesFromCsv().get('stock2'));

    // A late quote of the older day lands in that day only.
    const late = { ...day2[0]!, date: '20261121', time: '095959', seq: 999_999, price: 1 };
    await publish([encodePriceQuote(late)]);
    const lastPrice = async () => ((await readSeries('stock2:20261121')) as { price: number[] }).price.at(-1);
    expect(await eventually(lastPrice, (price) => price === 1, 20_000)).toBe(1);
    expect(await redis.get('stock2:latest-date')).toBe('20261122');
    expect(await readSeries('stock2')).toEqual(await readSeries('stock2:20261122'));
  });
});

describe('price ingestor when Redis refuses a write', () => {
  const suffix = uniqueSuffix();
  const topic = `test.prices.refused.${suffix}`;
  const prefix = `test:${suffix}:`;
  const group = `ingestor-refused-${suffix}`;
  const logger = createLogger({ service: 't', level: 'silent' });
  let kafka: Kafka;
  let redis: Redis;

  const startApp = async () => {
    const app = createApp(
      loadConfig(priceIngestorConfigSchema, {
        PORT: '0',
        KAFKA_BROKERS: kafkaBrokers().join(','),
        PRICES_TOPIC: topic,
        CONSUMER_GROUP: group,
        PRICES_KEY_PREFIX: prefix,
        RETRY_DELAY_MS: '200',
      }),
      logger,
    );
    await app.start();
    return app;
  };

  beforeAll(async () => {
    kafka = createKafka({ clientId: 'ingestor-test', brokers: kafkaBrokers(), logger });
    await ensureTopics(kafka, [{ topic, numPartitions: 3, replicationFactor: 1 }]);
    redis = createRedis({ url: testRedisUrl, keyPrefix: prefix, logger });
  });

  afterAll(async () => {
    await deletePrefixedKeys(redis, prefix);
    redis.disconnect();
    await deleteTopics(kafka, [topic]);
  });

  it('commits nothing past the batch Redis refused, so a restart writes it', async () => {
    // stock1's trade orders key holds a hash: every script call for stock1 fails (WRONGTYPE),
    // while the other stocks' calls in the same pipelined writes succeed.
    await redis.hset('stock1:20261121:orders', 'not', 'a string');
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: quotesFromCsv('20261121').map((quote) => ({
        key: quote.stockId,
        value: encodePriceQuote(quote),
      })),
    });
    await producer.disconnect();

    const expected = expectedSeriesFromCsv();
    const readSeries = async (key: string) => JSON.parse((await redis.get(key)) ?? 'null') as unknown;
    const first = await startApp();
    for (const symbol of ['stock2', 'stock3']) {
      const series = await eventually(
        () => readSeries(symbol),
        (value) => JSON.stringify(value) === JSON.stringify(expected.get(symbol)),
        20_000,
      );
      expect(series).toEqual(expected.get(symbol));
    }
    // Let the refused batch be read again and refused a few times, then stop, as a crash would.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await first.stop();
    expect(await redis.get('stock1')).toBeNull();

    // Redis takes stock1 now. Had any offset past its refused quotes been committed, the
    // restarted ingestor would not read them again and stock1 would stay incomplete.
    await redis.del('stock1:20261121:orders');
    const second = await startApp();
    try {
      const stock1 = await eventually(
        () => readSeries('stock1'),
        (value) => JSON.stringify(value) === JSON.stringify(expected.get('stock1')),
        20_000,
      );
      expect(stock1).toEqual(expected.get('stock1'));
    } finally {
      await second.stop();
    }
  });
});

describe('price ingestor on a topic that does not exist yet', () => {
  const suffix = uniqueSuffix();
  const topic = `test.prices.new.${suffix}`;
  const prefix = `test:${suffix}:`;
  const logger = createLogger({ service: 't', level: 'silent' });
  const kafka = createKafka({ clientId: 'ingestor-test', brokers: kafkaBrokers(), logger });

  afterAll(async () => {
    const redis = createRedis({ url: testRedisUrl, keyPrefix: prefix, logger });
    await deletePrefixedKeys(redis, prefix);
    redis.disconnect();
    await deleteTopics(kafka, [topic]);
  });

  it('waits for its owner, the price fetcher, to create it (a first deployment), then ingests what is published', async () => {
    const app = createApp(
      loadConfig(priceIngestorConfigSchema, {
        PORT: '0',
        KAFKA_BROKERS: kafkaBrokers().join(','),
        PRICES_TOPIC: topic,
        CONSUMER_GROUP: `ingestor-new-${suffix}`,
        PRICES_KEY_PREFIX: prefix,
      }),
      logger,
    );
    let started = false;
    const starting = app.start().then(() => {
      started = true;
    });
    const redis = createRedis({ url: testRedisUrl, keyPrefix: prefix, logger });
    try {
      // A consumer never creates the topic: it is still missing, and the ingestor not started.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const admin = kafka.admin();
      await admin.connect();
      const exists = (await admin.listTopics()).includes(topic);
      await admin.disconnect();
      expect({ exists, started }).toEqual({ exists: false, started: false });

      await ensureTopics(kafka, [topicConfig(topic, 3, 1)]);
      await starting;

      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      const quote = quotesFromCsv('20261121').find(({ symbol }) => symbol === 'stock3')!;
      await producer.send({
        topic,
        acks: -1,
        messages: [{ key: quote.stockId, value: encodePriceQuote(quote) }],
      });
      await producer.disconnect();
      const series = await eventually(
        () => redis.get('stock3'),
        (value) => value !== null,
        20_000,
      );
      expect(JSON.parse(series!)).toEqual({ time: [`${quote.time.slice(0, 4)}00`], price: [quote.price] });
    } finally {
      redis.disconnect();
      await starting.catch(() => undefined);
      await app.stop();
    }
  });
});
