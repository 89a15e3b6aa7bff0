import { createKafka, ensureTopics } from '@brokerage/kafka';
import type { Kafka, Producer } from 'kafkajs';
import RequestQueue from 'kafkajs/src/network/requestQueue';
import { deleteTopics, kafkaBrokers, testLogger, uniqueSuffix } from '../../../test/support/services';

describe('kafkajs request queue, as the platform runs it', () => {
  const topic = `test.request-queue.${uniqueSuffix()}`;
  let kafka: Kafka;
  const producers: Producer[] = [];

  beforeAll(async () => {
    kafka = createKafka({
      clientId: 'request-queue-test',
      brokers: kafkaBrokers(),
      logger: testLogger('kafka'),
    });
    await ensureTopics(kafka, [{ topic, numPartitions: 1, replicationFactor: 1 }]);
  });

  afterAll(async () => {
    await Promise.all(producers.map((producer) => producer.disconnect()));
    await deleteTopics(kafka, [topic]);
  });

  async function connectedProducer(maxInFlightRequests?: number): Promise<Producer> {
    const producer = kafka.producer(maxInFlightRequests ? { maxInFlightRequests } : {});
    producers.push(producer);
    await producer.connect();
    return producer;
  }

  /** How often the queues of this process check for waiting requests while `during` runs. */
  async function pendingChecks(during: () => Promise<unknown>): Promise<number> {
    const prototype = RequestQueue.prototype;
    const check = prototype.checkPendingRequests;
    let checks = 0;
    prototype.checkPendingRequests = function (this: RequestQueue) {
      checks += 1;
      check.call(this);
    };
    try {
      await during();
    } finally {
      prototype.checkPendingRequests = check;
    }
    return checks;
  }

  it('leaves an idle connection quiet instead of checking an empty queue every millisecond', async () => {
    const producer = await connectedProducer();
    await producer.send({ topic, acks: -1, messages: [{ value: 'wake the connection' }] });
    // kafkajs 2.2.4 as released checks about once a millisecond per connection, from the first
    // response on; here nothing waits, so nothing is checked until the next response.
    const checks = await pendingChecks(() => new Promise((resolve) => setTimeout(resolve, 500)));
    expect(checks).toBeLessThan(5);
  });

  async function topicEnd(): Promise<number> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [partition] = await admin.fetchTopicOffsets(topic);
      return Number(partition!.high);
    } finally {
      await admin.disconnect();
    }
  }

  it('still sends every request held back by the in-flight limit', async () => {
    const producer = await connectedProducer(1);
    const before = await topicEnd();
    // 40 produce requests at once on one connection that allows one in flight: 39 wait in the
    // queue and each goes out when the one before is answered.
    const sends = Array.from({ length: 40 }, (_, i) =>
      producer.send({ topic, acks: -1, messages: [{ key: String(i), value: `held back ${i}` }] }),
    );
    const results = await Promise.all(sends);
    expect(results.flat().every(({ errorCode }) => errorCode === 0)).toBe(true);
    expect((await topicEnd()) - before).toBe(40);
  });
});
