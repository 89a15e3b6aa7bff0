import {
  decodeJson,
  extractTraceContext,
  startConsumerSpan,
  type Logger,
  type MessageSpan,
} from '@brokerage/service';
import { verificationOutcomeSchema } from '@brokerage/verifier-contract';
import type { KafkaMessage } from 'kafkajs';
import { Counter, type Registry } from 'prom-client';
import type { OrderRecord } from '../db/order-record';
import type { FinalStatus, OrderTransitions } from '../db/order-transitions';

/** PostgreSQL's code for a transaction it chose to abort to break a deadlock. */
const DEADLOCK_DETECTED = '40P01';

/**
 * Applies the verifier's outcomes to orders, a fetched batch in one statement. Only IN_PROGRESS
 * -> COMPLETED or FAILED exist; a late, repeated or unknown outcome changes nothing, and of two
 * outcomes for one order in a batch the first (in offset order) wins, as it would one by one.
 * The caller commits a batch's offsets after it is applied, so a crash in between applies it
 * again, which changes nothing the second time.
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

  async apply(topic: string, partition: number, messages: readonly KafkaMessage[]): Promise<void> {
    const entries: Array<{ orderId: string; status: FinalStatus; trace: string | null }> = [];
    const spans: MessageSpan[] = [];
    for (const message of messages) {
      let outcome;
      try {
        outcome = decodeJson(verificationOutcomeSchema, message.value);
      } catch (error) {
        this.applied.inc({ effect: 'invalid' });
        this.logger.error(
          { err: error, partition, offset: message.offset },
          'invalid verification outcome skipped',
        );
        continue;
      }
      // Continues the trace of the buy or sell that asked for this verification.
      const span = startConsumerSpan('orders', `apply ${topic}`, extractTraceContext(message.headers));
      spans.push(span);
      entries.push({
        orderId: outcome.orderId,
        status: outcome.outcome === 'APPROVED' ? 'COMPLETED' : 'FAILED',
        trace: Object.keys(span.headers).length > 0 ? JSON.stringify(span.headers) : null,
      });
    }
    try {
      const finished = await this.finishAll(entries);
      for (const order of finished) this.applied.inc({ effect: order.status.toLowerCase() });
      this.applied.inc({ effect: 'ignored' }, entries.length - finished.length);
      if (finished.length > 0) this.onOutboxWrite();
      for (const span of spans) span.end();
    } catch (error) {
      for (const span of spans) span.end(error);
      throw error;
    }
  }

  /** One statement; run again if PostgreSQL broke a deadlock with another writer by aborting it. */
  private async finishAll(
    entries: Parameters<OrderTransitions['finishMany']>[0],
    attempt = 1,
  ): Promise<OrderRecord[]> {
    try {
      return await this.transitions.finishMany(entries);
    } catch (error) {
      const { code, driverError } = error as { code?: string; driverError?: { code?: string } };
      if ((code ?? driverError?.code) !== DEADLOCK_DETECTED || attempt >= 3) throw error;
      this.logger.warn({ attempt }, 'outcome batch aborted by a deadlock; applying it again');
      return this.finishAll(entries, attempt + 1);
    }
  }
}
