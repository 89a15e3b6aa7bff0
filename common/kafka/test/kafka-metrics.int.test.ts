import { createInstrumentedConsumer, createKafka, ensureTopics, instrumentConsumer } from '@brokerage/kafka';
import { Registry } from 'prom-client';
import { eventually } from '../../../test/support/price-series';
import { kafkaBrokers, testLogger, uniqueSuffix } from '../../../test/support/services';

describe('consumer metrics', () => {
  it('shows the lag of a group from the broker, falling to 0 as the consumer commits', async () => {
    const kafka = createKafka({
      clientId: 'metrics-test',
      brokers: kafkaBrokers(),
      logger: testLogger('kafka'),
    });
    const topic = `metrics.lag.${uniqueSuffix()}`;
    const groupId = `metrics-${uniqueSuffix()}`;
    await ensureTopics(kafka, [{ topic, numPartitions: 2, replicationFactor: 1 }]);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: 'v' })),
    });
    await producer.disconnect();

    const admin = kafka.admin();
    await admin.connect();
    const consumer = kafka.consumer({ groupId });
    const registry = new Registry();
    instrumentConsumer({ consumer, admin, groupId, topics: [topic], registry });
    const sample = async (name: string) => {
      const { values } = (await registry.getMetricsAsJSON()).find((metric) => metric.name === name)!;
      return values.reduce((sum, { value }) => sum + value, 0);
    };
    try {
      // Nothing committed yet: the whole topic is lag.
      expect(await sample('kafka_consumer_lag')).toBe(10);
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ eachMessage: async () => undefined });
      await eventually(
        () => sample('kafka_consumer_lag'),
        (lag) => lag === 0,
        20_000,
      );
      expect(await sample('kafka_consumer_messages_total')).toBe(10);
    } finally {
      await consumer.disconnect();
      await admin.deleteTopics({ topics: [topic] });
      await admin.disconnect();
    }
  });

  it('stops an idle platform consumer without waiting out a long fetch', async () => {
    // A consumer's disconnect waits for its fetch in flight; on an idle topic that fetch lasts
    // maxWaitTimeInMs (kafkajs' default: 5 s), and every graceful stop of a service waits for it.
    const kafka = createKafka({
      clientId: 'idle-stop-test',
      brokers: kafkaBrokers(),
      logger: testLogger('kafka'),
    });
    const topic = `metrics.idle.${uniqueSuffix()}`;
    const groupId = `idle-${uniqueSuffix()}`;
    await ensureTopics(kafka, [{ topic, numPartitions: 1, replicationFactor: 1 }]);
    const admin = kafka.admin();
    await admin.connect();
    const consumer = createInstrumentedConsumer(kafka, {
      groupId,
      admin,
      topics: [topic],
      registry: new Registry(),
    });
    try {
      const fetching = new Promise<void>((resolve) =>
        consumer.on(consumer.events.FETCH_START, () => resolve()),
      );
      await consumer.connect();
      await consumer.subscribe({ topic });
      await consumer.run({ eachMessage: async () => undefined });
      await fetching;
      // Well inside the first long fetch, had it been one.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const started = performance.now();
      await consumer.disconnect();
      expect(performance.now() - started).toBeLessThan(2_500);
    } finally {
      await consumer.disconnect();
      await admin.deleteTopics({ topics: [topic] });
      await admin.disconnect();
    }
  });
});
