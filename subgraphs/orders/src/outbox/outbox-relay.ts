import {
  encodeJson,
  extractTraceContext,
  inSpan,
  SpanKind,
  startProducerSpan,
  type Logger,
} from '@brokerage/common';
import type { Producer } from 'kafkajs';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { CreditCommand, OutboxMessage } from '../db/orders-repository';
import type { UsersCredit } from '../clients/users-credit';
import type { OrderStatusPublisher } from '../status/order-status-publisher';

/** Every outbox message belongs to one order. */
function orderIdOf(row: OutboxRow): string {
  const payload = row.payload as { orderId?: string; key?: string };
  return payload.orderId ?? payload.key ?? row.id;
}

interface OutboxRow {
  id: string;
  kind: OutboxMessage['kind'];
  payload: OutboxMessage['payload'];
  /** The trace the row was written in (W3C headers), continued by its delivery. */
  trace_context: Record<string, string> | null;
}

export interface OutboxRelayOptions {
  dataSource: DataSource;
  producer: Producer;
  statusPublisher: OrderStatusPublisher;
  credit: UsersCredit;
  topics: { verificationRequests: string; statusChanges: string };
  pollMs: number;
  logger: Logger;
  registry: Registry;
  batchSize?: number;
}

/**
 * Delivers the outbox, oldest first: verification requests to Kafka, credit commands to the users
 * service (each idempotent by order id), status events to Kafka and to the order's Redis channel.
 * A row is marked delivered in the same transaction that locked it, after its delivery succeeded;
 * a crash in between delivers it again, which every receiver absorbs. Delivery stops at the first
 * failure so that an order's messages keep their order; the next round retries from there.
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly delivered: Counter<'kind'>;
  private readonly failures: Counter<'kind'>;

  constructor(private readonly options: OutboxRelayOptions) {
    this.delivered = new Counter({
      name: 'outbox_delivered_total',
      help: 'Outbox messages delivered, by kind',
      labelNames: ['kind'],
      registers: [options.registry],
    });
    this.failures = new Counter({
      name: 'outbox_delivery_failures_total',
      help: 'Failed outbox deliveries (retried), by kind',
      labelNames: ['kind'],
      registers: [options.registry],
    });
    new Gauge({
      name: 'outbox_backlog',
      help: 'Outbox messages not delivered yet',
      registers: [options.registry],
      collect: async function (this: Gauge) {
        const [row] = await options.dataSource.query<Array<{ count: string }>>(
          'SELECT count(*) FROM outbox WHERE published_at IS NULL',
        );
        this.set(Number(row?.count ?? 0));
      },
    });
  }

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.notify();
      this.timer = setTimeout(tick, this.options.pollMs);
    };
    tick();
  }

  /** Something was written to the outbox: deliver it now rather than at the next poll. */
  notify(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.notify();
      }
    });
  }

  /** Stops polling and waits for the round in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (!this.stopped && (await this.deliverBatch()) === (this.options.batchSize ?? 200)) {
        // A full batch: there may be more right behind it.
      }
    } catch (error) {
      this.options.logger.warn({ err: error }, 'outbox delivery failed; will retry');
    }
  }

  /** Delivers one batch; returns how many rows it delivered. */
  private deliverBatch(): Promise<number> {
    const { dataSource, batchSize = 200 } = this.options;
    return dataSource.transaction(async (manager) => {
      const rows = await manager.query<OutboxRow[]>(
        `SELECT id, kind, payload, trace_context FROM outbox WHERE published_at IS NULL
          ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [batchSize],
      );
      if (rows.length === 0) return 0;
      const delivered: string[] = [];
      const failed: Array<{ row: OutboxRow; error: unknown }> = [];
      // Order matters within an order (its credit settles before its status is announced), not
      // between orders: the batch goes out in waves, the first undelivered message of each order
      // per wave, Kafka and Redis messages of a wave together and credit commands side by side.
      const queues = new Map<string, OutboxRow[]>();
      for (const row of rows) {
        const orderId = orderIdOf(row);
        const queue = queues.get(orderId) ?? [];
        queue.push(row);
        queues.set(orderId, queue);
      }
      while (queues.size > 0) {
        const wave = [...queues.values()].map((queue) => queue.shift()!);
        const announcements = wave.filter((row) => row.kind !== 'credit');
        const credits = wave.filter((row) => row.kind === 'credit');
        const outcomes = await Promise.allSettled([
          announcements.length > 0 ? this.deliverToKafkaAndRedis(announcements) : Promise.resolve(),
          ...credits.map((row) => {
            const command = row.payload as CreditCommand;
            return inSpan(
              'orders',
              `outbox ${command.action} credit`,
              { kind: SpanKind.INTERNAL, parent: extractTraceContext(row.trace_context ?? undefined) },
              () => this.options.credit.apply(command),
            );
          }),
        ]);
        const [announced, ...settled] = outcomes;
        const results = [
          ...announcements.map((row) => ({ row, result: announced })),
          ...credits.map((row, index) => ({ row, result: settled[index]! })),
        ];
        for (const { row, result } of results) {
          if (result.status === 'fulfilled') {
            delivered.push(row.id);
            this.delivered.inc({ kind: row.kind });
          } else {
            failed.push({ row, error: result.reason });
            this.failures.inc({ kind: row.kind });
            // The rest of this order waits for the next round.
            queues.delete(orderIdOf(row));
          }
        }
        for (const [orderId, queue] of queues) if (queue.length === 0) queues.delete(orderId);
      }
      for (const { row, error } of failed) {
        await manager.query('UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1', [
          row.id,
          error instanceof Error ? error.message.slice(0, 500) : String(error),
        ]);
      }
      if (delivered.length > 0) {
        await manager.query('UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])', [
          delivered,
        ]);
      }
      if (failed.length > 0) {
        this.options.logger.warn(
          { err: failed[0]!.error, failed: failed.length },
          'outbox delivery failed; will retry',
        );
        return 0;
      }
      return rows.length;
    });
  }

  private async deliverToKafkaAndRedis(rows: OutboxRow[]): Promise<void> {
    const { producer, statusPublisher, topics } = this.options;
    const spans = rows.map((row) => {
      const topic = row.kind === 'kafka' ? topics.verificationRequests : topics.statusChanges;
      return startProducerSpan(
        'orders',
        `publish ${topic}`,
        extractTraceContext(row.trace_context ?? undefined),
      );
    });
    const kafkaMessages = rows.map((row, index) => {
      const { headers } = spans[index]!;
      if (row.kind === 'kafka') {
        const payload = row.payload as Extract<OutboxMessage, { kind: 'kafka' }>['payload'];
        return {
          topic: topics.verificationRequests,
          messages: [{ key: payload.key, value: encodeJson(payload.value), headers }],
        };
      }
      const event = row.payload as Extract<OutboxMessage, { kind: 'status' }>['payload'];
      return {
        topic: topics.statusChanges,
        messages: [{ key: event.orderId, value: encodeJson(event), headers }],
      };
    });
    // Live subscribers listen on Redis; the Kafka topic is the durable record for everyone else.
    // Both go out at once (subscribers need not wait for Kafka's acknowledgement), and both must
    // succeed for the rows to count as delivered; a repeat after a failure is harmless to either.
    const statusEvents = rows
      .filter((row) => row.kind === 'status')
      .map((row) => row.payload as Extract<OutboxMessage, { kind: 'status' }>['payload']);
    try {
      await Promise.all([
        producer.sendBatch({ acks: -1, topicMessages: kafkaMessages }),
        statusPublisher.publish(statusEvents),
      ]);
      for (const span of spans) span.end();
    } catch (error) {
      for (const span of spans) span.end(error);
      throw error;
    }
  }
}
