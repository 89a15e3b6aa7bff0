import { createKafka, ensureTopics } from '@brokerage/kafka';
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
import { createApp } from '../src/app';
import { priceIngestorConfigSchema } from '../src/config';
import { rewindIngestors } from '../src/rewind';

// The disaster-recovery step for Redis (docs/operations.md): every price key is gone; the
// ingestors are stopped, their group rewound (`npm run rebuild-prices`), started again, and the
// series come back equal, value for value, to the series computed from the source.

describe('rebuilding the price series from Kafka', () => {
  const suffix = uniqueSuffix();
  const topic = `test.prices.${suffix}`;
  const group = `ingestor-${suffix}`;
  const prefix = `test:${suffix}:`;
  let kafka: Kafka;
  let redis: Redis;
  const config = () =>
    loadConfig(priceIngestorConfigSchema, {
      PORT: '0',
      KAFKA_BROKERS: kafkaBrokers().join(','),
      PRICES_TOPIC: topic,
      CONSUMER_GROUP: group,
      PRICES_KEY_PREFIX: prefix,
    });
  const logger = createLogger({ service: 'price-ingestor', level: 'silent' });

  beforeAll(async () => {
    kafka = createKafka({ clientId: 'rebuild-test', brokers: kafkaBrokers(), logger });
    await ensureTopics(kafka, [{ topic, numPartitions: 3, replicationFactor: 1 }]);
    redis = createRedis({ url: testRedisUrl, keyPrefix: prefix, logger });
  });

  afterAll(async () => {
    await deletePrefixedKeys(redis, prefix);
    redis.disconnect();
    await deleteTopics(kafka, [topic]);
  });

  const seriesEqualToSource = async () => {
    const expected = expectedSeriesFromCsv();
    for (const [symbol, series] of expected) {
      const actual = await eventually(
        async () => JSON.parse((await redis.get(symbol)) ?? 'null') as unknown,
        (value) => JSON.stringify(value) === JSON.stringify(series),
        30_000,
      );
      expect(actual).toEqual(series);
    }
  };

  it('brings every series back after Redis lost them all', async () => {
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

    const first = createApp(config(), logger);
    await first.start();
    await seriesEqualToSource();

    // A running ingestor holds the group: the rewind refuses rather than race it.
    await expect(rewindIngestors(kafka, group, topic)).rejects.toThrow(/stop the price ingestors first/);
    await first.stop();

    await deletePrefixedKeys(redis, prefix);
    expect(await redis.keys(`${prefix}*`)).toEqual([]);

    await rewindIngestors(kafka, group, topic);
    const second = createApp(config(), logger);
    await second.start();
    try {
      await seriesEqualToSource();
    } finally {
      await second.stop();
    }
  }, 120_000);
});
