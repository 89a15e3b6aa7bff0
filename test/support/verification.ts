import { createKafka, createLogger, encodeJson, type VerificationOutcome } from '@brokerage/common';
import { kafkaBrokers } from './services';

/** Publishes a verification outcome as the verifier would, so a test decides when (and how) an order ends. */
export async function publishVerificationOutcome(
  topic: string,
  orderId: string,
  outcome: VerificationOutcome['outcome'],
): Promise<void> {
  const kafka = createKafka({
    clientId: 'test',
    brokers: kafkaBrokers(),
    logger: createLogger({ service: 't', level: 'silent' }),
  });
  const producer = kafka.producer();
  await producer.connect();
  try {
    const message: VerificationOutcome = { orderId, outcome, decidedAt: new Date().toISOString() };
    await producer.send({ topic, messages: [{ key: orderId, value: encodeJson(message) }] });
  } finally {
    await producer.disconnect();
  }
}

/** Publishes several outcomes in one send, as a verifier's batch would arrive. */
export async function publishVerificationOutcomes(
  topic: string,
  outcomes: ReadonlyArray<{ orderId: string; outcome: VerificationOutcome['outcome'] }>,
): Promise<void> {
  const kafka = createKafka({
    clientId: 'test',
    brokers: kafkaBrokers(),
    logger: createLogger({ service: 't', level: 'silent' }),
  });
  const producer = kafka.producer();
  await producer.connect();
  try {
    const decidedAt = new Date().toISOString();
    await producer.send({
      topic,
      messages: outcomes.map(({ orderId, outcome }) => ({
        key: orderId,
        value: encodeJson({ orderId, outcome, decidedAt } satisfies VerificationOutcome),
      })),
    });
  } finally {
    await producer.disconnect();
  }
}
