import { decodeJson, type Logger } from '@brokerage/service';
import { orderStatusEventSchema } from '@brokerage/orders-contract';
import type { Consumer, KafkaMessage } from 'kafkajs';
import { Counter, type Registry } from 'prom-client';
import type { DeliveriesRepository, EventToDeliver } from '../db/deliveries-repository';
import { eventOfStatus, webhookBody } from '../webhooks/events';

/**
 * Follows the orders service's status changes in the notifier's own consumer group. A batch's
 * deliveries are written to the notifications database (one statement) before its offset is
 * resolved and committed: a crash in between reads the batch again, and the deliveries already
 * written are not written twice (one per event and endpoint).
 */
export async function runStatusChangesConsumer(
  consumer: Consumer,
  topic: string,
  deliveries: DeliveriesRepository,
  onEnqueued: () => void,
  logger: Logger,
  registry: Registry,
): Promise<void> {
  const enqueued = new Counter({
    name: 'notifier_webhook_deliveries_enqueued_total',
    help: 'Deliveries written for order status changes (one per event and subscribed endpoint)',
    registers: [registry],
  });
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: 3,
    eachBatchAutoResolve: false,
    eachBatch: async (payload) => {
      const { batch } = payload;
      if (!payload.isRunning() || payload.isStale() || batch.messages.length === 0) return;
      const events = batch.messages.flatMap((message) => toDeliver(message, batch.partition, logger));
      const written = await deliveries.enqueue(events);
      payload.resolveOffset(batch.lastOffset());
      await payload.heartbeat();
      if (written > 0) {
        enqueued.inc(written);
        onEnqueued();
      }
    },
  });
}

function toDeliver(message: KafkaMessage, partition: number, logger: Logger): EventToDeliver[] {
  try {
    const event = decodeJson(orderStatusEventSchema, message.value);
    const body = webhookBody(event);
    return [
      {
        eventId: body.id,
        event: eventOfStatus(event.status),
        userId: event.userId,
        orderId: event.orderId,
        at: event.at,
        body: JSON.stringify(body),
      },
    ];
  } catch (error) {
    logger.error({ err: error, partition, offset: message.offset }, 'invalid status change skipped');
    return [];
  }
}
