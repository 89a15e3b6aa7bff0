import { randomBytes } from 'node:crypto';
import { consumerGaveUp, createKafka, ensureTopics, topicConfig } from '@brokerage/kafka';
import { loadConfig } from '@brokerage/service';
import { OrderTopics } from '@brokerage/orders-contract';
import { PriceFetcherTopics } from '@brokerage/price-fetcher-contract';
import { VerifierTopics } from '@brokerage/verifier-contract';
import type { Kafka, Producer } from 'kafkajs';
import { storeAccess } from '../../scripts/store-access';
import { ordersConfigSchema } from '../../subgraphs/orders/src/config';
import { verifierConfigSchema } from '../../workers/verifier/src/config';
import { provisionConfigSchema, provisionKafkaAcls, provisionStores } from '../../scripts/provision-stores';
import { startDedicatedBroker, type DedicatedBroker } from '../support/dedicated-broker';
import { testLogger } from '../support/services';

const secret = () => randomBytes(9).toString('hex');
const passwords = {
  admin: secret(),
  orders: secret(),
  verifier: secret(),
  fetcher: secret(),
  ingestor: secret(),
};

/** The error a Kafka call ends with (its kafkajs type, e.g. TOPIC_AUTHORIZATION_FAILED), or undefined. */
async function refusal(call: Promise<unknown>): Promise<string | undefined> {
  try {
    await call;
    return undefined;
  } catch (error) {
    const { type, name } = error as { type?: string; name?: string };
    return type ?? name;
  }
}

describe('each service reaches Kafka as its own SCRAM user, writing only the topics it owns', () => {
  let broker: DedicatedBroker;
  let brokers: string[];
  const admin = () => ({
    KAFKA_SASL_MECHANISM: 'scram-sha-256' as const,
    KAFKA_SASL_USERNAME: 'admin',
    KAFKA_SASL_PASSWORD: passwords.admin,
  });
  const started: Array<{ disconnect(): Promise<void> }> = [];
  // Clients as the services make them: from their own config, loaded from KAFKA_SASL_* variables.
  const asService = (
    schema: typeof ordersConfigSchema | typeof verifierConfigSchema,
    env: Record<string, string>,
  ) => {
    const config = loadConfig(schema, { KAFKA_BROKERS: brokers.join(','), ...env });
    return createKafka({
      clientId: 'acl-test',
      brokers: config.KAFKA_BROKERS,
      security: config,
      logger: testLogger('kafka'),
    });
  };
  const producer = async (kafka: Kafka): Promise<Producer> => {
    const made = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await made.connect();
    started.push(made);
    return made;
  };
  let orders: Kafka;
  let verifier: Kafka;

  beforeAll(async () => {
    broker = await startDedicatedBroker({ saslAdminPassword: passwords.admin });
    brokers = [broker.brokers];
    await provisionStores(
      loadConfig(provisionConfigSchema, {
        PROVISION_STORES: 'kafka',
        KAFKA_BROKERS: broker.brokers,
        ...admin(),
        ORDERS_KAFKA_SASL_PASSWORD: passwords.orders,
        VERIFIER_KAFKA_SASL_PASSWORD: passwords.verifier,
        PRICE_FETCHER_KAFKA_SASL_PASSWORD: passwords.fetcher,
        PRICE_INGESTOR_KAFKA_SASL_PASSWORD: passwords.ingestor,
      }),
      testLogger('provision'),
    );
    orders = asService(ordersConfigSchema, {
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
      KAFKA_SASL_USERNAME: 'orders',
      KAFKA_SASL_PASSWORD: passwords.orders,
    });
    verifier = asService(verifierConfigSchema, {
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
      KAFKA_SASL_USERNAME: 'verifier',
      KAFKA_SASL_PASSWORD: passwords.verifier,
    });
  }, 240_000);

  afterAll(async () => {
    for (const client of started) await client.disconnect().catch(() => undefined);
    broker?.destroy();
  }, 60_000);

  it('lets the orders service write its own topic and refuses it the topics of others', async () => {
    // What the orders service does at start: make sure of its topics (all made by provisioning).
    await ensureTopics(
      orders,
      [
        OrderTopics.verificationRequests,
        VerifierTopics.verificationOutcomes,
        OrderTopics.statusChanges,
        PriceFetcherTopics.priceQuotes,
      ].map((topic) => topicConfig(topic)),
    );
    const sender = await producer(orders);
    const [written] = await sender.send({
      topic: OrderTopics.verificationRequests,
      messages: [{ key: '1', value: 'verify order 1' }],
    });
    expect(written?.errorCode).toBe(0);
    for (const topic of [PriceFetcherTopics.priceQuotes, VerifierTopics.verificationOutcomes])
      expect(await refusal(sender.send({ topic, messages: [{ value: 'forged' }] }))).toBe(
        'TOPIC_AUTHORIZATION_FAILED',
      );
  }, 60_000);

  it('lets the verifier read its requests in its own group, and no other group', async () => {
    // Fetches that wait at most half a second: its disconnect waits for the one in flight.
    const consumer = verifier.consumer({
      groupId: 'verifier',
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 500,
    });
    started.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic: OrderTopics.verificationRequests, fromBeginning: true });
    const read = new Promise<string>((resolve) => {
      void consumer.run({ eachMessage: async ({ message }) => resolve(message.value?.toString() ?? '') });
    });
    expect(await read).toBe('verify order 1');

    // The same topic in the orders service's group: the group is not the verifier's to join.
    const intruder = verifier.consumer({
      groupId: 'orders',
      allowAutoTopicCreation: false,
      retry: { retries: 0 },
    });
    started.push(intruder);
    const gaveUp = consumerGaveUp(intruder);
    await intruder.connect();
    await intruder.subscribe({ topic: OrderTopics.verificationRequests, fromBeginning: true });
    await intruder.run({ eachMessage: async () => undefined });
    // The broker refuses FindCoordinator for the group (GROUP_AUTHORIZATION_FAILED), which kafkajs
    // reports as finding no coordinator; for its own group, just above, the same client found one.
    expect(await refusal(gaveUp.then((error) => Promise.reject(error)))).toBe(
      'KafkaJSGroupCoordinatorNotFound',
    );
  }, 90_000);

  it('refuses a wrong password and a client that does not sign in', async () => {
    const wrong = asService(ordersConfigSchema, {
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
      KAFKA_SASL_USERNAME: 'orders',
      KAFKA_SASL_PASSWORD: 'not-the-password',
    });
    expect(await refusal(producer(wrong))).toBe('KafkaJSSASLAuthenticationError');
    const anonymous = createKafka({ clientId: 'acl-test', brokers, logger: testLogger('kafka') });
    const admin = anonymous.admin({ retry: { retries: 0 } });
    started.push(admin);
    expect(await refusal(admin.connect().then(() => admin.listTopics()))).toBeDefined();
  }, 90_000);

  it('takes back an ACL granted by hand when provisioned again', async () => {
    const superuser = createKafka({
      clientId: 'acl-test',
      brokers,
      security: admin(),
      logger: testLogger('kafka'),
    });
    const adminClient = superuser.admin();
    started.push(adminClient);
    await adminClient.connect();
    const access = storeAccess().orders.kafka!;
    // A stray grant: the orders user may write the price topic.
    await provisionKafkaAcls(adminClient, 'orders', {
      ...access,
      produce: [...access.produce!, PriceFetcherTopics.priceQuotes],
    });
    const sender = await producer(orders);
    expect(
      await refusal(sender.send({ topic: PriceFetcherTopics.priceQuotes, messages: [{ value: 'x' }] })),
    ).toBeUndefined();

    await provisionKafkaAcls(adminClient, 'orders', access);
    expect(
      await refusal(sender.send({ topic: PriceFetcherTopics.priceQuotes, messages: [{ value: 'forged' }] })),
    ).toBe('TOPIC_AUTHORIZATION_FAILED');
  }, 60_000);
});
