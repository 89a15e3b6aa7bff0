import {
  decodeJson,
  extractTraceContext,
  inSpan,
  SpanKind,
  verificationOutcomeSchema,
  type Logger,
} from '@brokerage/common';
import type { Consumer } from 'kafkajs';
import { Counter, type Registry } from 'prom-client';
import type { OrdersRepository } from '../db/orders-repository';
import type { OrderStatusPublisher } from '../status/order-status-publisher';

/** Outcomes applied at once per partition: database transactions in flight, bounded by the pool. */
const CONCURRENCY = 8;

/**
 * Applies the verifier's outcomes to orders. Only IN_PROGRESS -> COMPLETED or FAILED exist; a
 * late, repeated or unknown outcome changes nothing. Offsets are committed after the database
 * transaction, so a crash in between re-applies the outcome, which changes nothing the second time.
 */
export async function runOutcomeConsumer(options: {
  consumer: Consumer;
  topic: string;
  orders: OrdersRepository;
  statusPublisher: OrderStatusPublisher;
  onOutboxWrite: () => void;
  logger: Logger;
  registry: Registry;
}): Promise<void> {
  const { consumer, topic, orders, statusPublisher, onOutboxWrite, logger } = options;
  const applied = new Counter({
    name: 'verification_outcomes_total',
    help: 'Verification outcomes consumed, by effect',
    labelNames: ['effect'],
    registers: [options.registry],
  });
  await consumer.subscribe({ topic, fromBeginning: true });
  async function apply(value: Buffer | null, partition: number, offset: string): Promise<void> {
    let outcome;
    try {
      outcome = decodeJson(verificationOutcomeSchema, value);
    } catch (error) {
      applied.inc({ effect: 'invalid' });
      logger.error({ err: error, partition, offset }, 'invalid verification outcome skipped');
      return;
    }
    const order = await orders.applyOutcome(outcome.orderId, outcome.outcome);
    applied.inc({ effect: order ? order.status.toLowerCase() : 'ignored' });
    if (order) {
      // Whoever waits for this order hears now; the outbox announces it again once credit settled.
      statusPublisher.announceCommitted(order);
      onOutboxWrite();
      logger.debug({ orderId: order.id, status: order.status, outcome: outcome.outcome }, 'order finished');
    }
  }

  await consumer.run({
    partitionsConsumedConcurrently: 3,
    eachBatchAutoResolve: false,
    // A batch's outcomes for different orders are applied side by side (each in its own
    // transaction); those of one order (same key) stay in order. The batch is resolved, and
    // committed by kafkajs, only once every outcome in it is applied.
    eachBatch: async (payload) => {
      const { batch } = payload;
      if (!payload.isRunning() || payload.isStale() || batch.messages.length === 0) return;
      const byOrder = new Map<string, typeof batch.messages>();
      for (const message of batch.messages) {
        const key = message.key?.toString() ?? message.offset;
        byOrder.set(key, [...(byOrder.get(key) ?? []), message]);
      }
      const chains = [...byOrder.values()];
      const workers = Array.from({ length: Math.min(CONCURRENCY, chains.length) }, async () => {
        for (let chain = chains.shift(); chain; chain = chains.shift()) {
          for (const message of chain) {
            // Continues the trace of the buy or sell that asked for this verification.
            await inSpan(
              'orders',
              `apply ${batch.topic}`,
              { kind: SpanKind.CONSUMER, parent: extractTraceContext(message.headers) },
              () => apply(message.value, batch.partition, message.offset),
            );
          }
        }
      });
      await Promise.all(workers);
      payload.resolveOffset(batch.lastOffset());
      await payload.heartbeat();
    },
  });
}
