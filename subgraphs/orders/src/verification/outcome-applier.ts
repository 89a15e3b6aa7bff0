import {
  decodeJson,
  extractTraceContext,
  inSpan,
  SpanKind,
  verificationOutcomeSchema,
  type Logger,
} from '@brokerage/common';
import type { KafkaMessage } from 'kafkajs';
import { Counter, type Registry } from 'prom-client';
import type { OrderTransitions } from '../db/order-transitions';

/** Outcomes applied at once per partition: statements in flight, bounded by the pool. */
const CONCURRENCY = 8;

/**
 * Applies the verifier's outcomes to orders. Only IN_PROGRESS -> COMPLETED or FAILED exist; a
 * late, repeated or unknown outcome changes nothing. The caller commits a batch's offsets after
 * it is applied, so a crash in between re-applies outcomes, which changes nothing the second time.
 */
export class OutcomeApplier {
  private readonly applied: Counter<'effect'>;

  constructor(
    private readonly transitions: OrderTransitions,
    private readonly onOutboxWrite: () => void,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    this.applied = new Counter({
      name: 'verification_outcomes_total',
      help: 'Verification outcomes consumed, by effect',
      labelNames: ['effect'],
      registers: [registry],
    });
  }

  /**
   * A batch's outcomes for different orders are applied side by side (each one statement); those
   * of one order (same key) stay in order.
   */
  async apply(topic: string, partition: number, messages: readonly KafkaMessage[]): Promise<void> {
    const byOrder = new Map<string, KafkaMessage[]>();
    for (const message of messages) {
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
            `apply ${topic}`,
            { kind: SpanKind.CONSUMER, parent: extractTraceContext(message.headers) },
            () => this.applyOne(message, partition),
          );
        }
      }
    });
    await Promise.all(workers);
  }

  private async applyOne(message: KafkaMessage, partition: number): Promise<void> {
    let outcome;
    try {
      outcome = decodeJson(verificationOutcomeSchema, message.value);
    } catch (error) {
      this.applied.inc({ effect: 'invalid' });
      this.logger.error(
        { err: error, partition, offset: message.offset },
        'invalid verification outcome skipped',
      );
      return;
    }
    const order = await this.transitions.finish(
      outcome.orderId,
      outcome.outcome === 'APPROVED' ? 'COMPLETED' : 'FAILED',
    );
    this.applied.inc({ effect: order ? order.status.toLowerCase() : 'ignored' });
    if (order) {
      this.onOutboxWrite();
      this.logger.debug(
        { orderId: order.id, status: order.status, outcome: outcome.outcome },
        'order finished',
      );
    }
  }
}
