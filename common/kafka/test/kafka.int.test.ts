import { consumerGaveUp, createKafka, ensureTopics } from '@brokerage/kafka';
import type { Consumer, EachMessagePayload, Kafka } from 'kafkajs';
import { deleteTopics, kafkaBrokers, testLogger, uniqueSuffix } from '../../../test/support/services';

describe('Kafka round trip through the real broker', () => {
  const logger = testLogger('kafka-smoke');
  let kafka: Kafka;
  const topic = `smoke.roundtrip.${uniqueSuffix()}`;
  const groupId = `smoke-group-${uniqueSuffix()}`;
  const consumers: Consumer[] = [];

  beforeAll(async () => {
    kafka = createKafka({ clientId: 'kafka-smoke', brokers: kafkaBrokers(), logger });
    await ensureTopics(kafka, [{ topic, numPartitions: 1, replicationFactor: 1 }]);
  });

  afterAll(async () => {
    await Promise.all(consumers.map((consumer) => consumer.disconnect()));
    await deleteTopics(kafka, [topic]);
  });

  /** Starts a consumer in the group and resolves with the first `count` values it sees. */
  async function consume(count: number, commitAfter: number): Promise<string[]> {
    const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
    consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: string[] = [];
    return new Promise<string[]>((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ message, partition }: EachMessagePayload) => {
            seen.push(message.value!.toString());
            if (seen.length <= commitAfter) {
              // Commit the offset of the next message to read, as Kafka expects.
              await consumer.commitOffsets([
                { topic, partition, offset: (BigInt(message.offset) + 1n).toString() },
              ]);
            }
            if (seen.length === count) resolve([...seen]);
          },
        })
        .catch(reject);
    });
  }

  it('creates the same new topics from many processes at once, each seeing them led', async () => {
    // Every service ensures its topics at start; on a fresh broker they race to create the same ones.
    const racing = [`smoke.race.a.${uniqueSuffix()}`, `smoke.race.b.${uniqueSuffix()}`];
    const clients = Array.from({ length: 6 }, (_, i) =>
      createKafka({ clientId: `kafka-race-${i}`, brokers: kafkaBrokers(), logger }),
    );
    await Promise.all(
      clients.map((client) =>
        ensureTopics(
          client,
          racing.map((name) => ({ topic: name, numPartitions: 3, replicationFactor: 1 })),
        ),
      ),
    );
    const admin = kafka.admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: racing });
      expect(topics.map(({ partitions }) => partitions.filter(({ leader }) => leader >= 0).length)).toEqual([
        3, 3,
      ]);
      await admin.deleteTopics({ topics: racing });
    } finally {
      await admin.disconnect();
    }
  });

  it('re-reads from the last committed offset after the consumer reconnects', async () => {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({
      topic,
      acks: -1,
      messages: ['m1', 'm2', 'm3'].map((value) => ({ key: 'k', value })),
    });
    await producer.disconnect();

    // The first consumer reads all three but commits only after the first two.
    await expect(consume(3, 2)).resolves.toEqual(['m1', 'm2', 'm3']);
    await consumers.pop()!.disconnect();

    // A new consumer in the same group starts from the committed offset: only m3 comes again.
    await expect(consume(1, 1)).resolves.toEqual(['m3']);
  });

  it('tells when kafkajs gives up on a consumer, which otherwise idles in a live process', async () => {
    const consumer = kafka.consumer({
      groupId: `gave-up-${uniqueSuffix()}`,
      // This consumer gives up at its first failure; production ones do so on non-retriable errors.
      retry: { retries: 0, restartOnFailure: async () => false },
    });
    consumers.push(consumer);
    const gaveUp = consumerGaveUp(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async () => {
        throw new Error('cannot handle this message');
      },
    });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ value: 'poison' }] });
    await producer.disconnect();
    const error = await gaveUp;
    expect(error.message).toContain('cannot handle');
  });
});
