import type { Consumer, KafkaMessage } from 'kafkajs';

export interface TopicHandler {
  apply(topic: string, partition: number, messages: readonly KafkaMessage[]): Promise<void>;
}

/**
 * The orders service's one consumer group, over the topics it follows (verification outcomes,
 * prices). A batch is resolved, and committed by kafkajs, only once its handler has applied it;
 * every handler is idempotent, so a batch applied again after a crash changes nothing.
 */
export async function runOrdersConsumer(
  consumer: Consumer,
  handlers: ReadonlyMap<string, TopicHandler>,
): Promise<void> {
  await consumer.subscribe({ topics: [...handlers.keys()], fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: 3,
    eachBatchAutoResolve: false,
    eachBatch: async (payload) => {
      const { batch } = payload;
      if (!payload.isRunning() || payload.isStale() || batch.messages.length === 0) return;
      await handlers.get(batch.topic)!.apply(batch.topic, batch.partition, batch.messages);
      payload.resolveOffset(batch.lastOffset());
      await payload.heartbeat();
    },
  });
}
