import { createKafka } from '@brokerage/kafka';
import { createLogger } from '@brokerage/service';
import type { Message } from 'kafkajs';
import { kafkaBrokers } from './services';

/** Sends messages to a topic in one request, from a producer that lives for this call only. */
export async function produce(
  topic: string,
  messages: Message[],
  brokers: string[] = kafkaBrokers(),
): Promise<void> {
  const kafka = createKafka({
    clientId: 'test',
    brokers,
    logger: createLogger({ service: 't', level: 'silent' }),
  });
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, messages });
  } finally {
    await producer.disconnect();
  }
}
