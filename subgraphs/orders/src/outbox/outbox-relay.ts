import {
  DeliveryLoop,
  encodeJson,
  extractTraceContext,
  moneyFromColumn,
  queryPrepared,
  startProducerSpan,
  type Logger,
  type OrderSide,
  type OrderStatus,
  type OrderStatusEvent,
  type PreparedStatement,
  type VerificationRequest,
} from '@brokerage/common';
import type { Producer } from 'kafkajs';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { OrderStatusPublisher } from '../status/order-status-publisher';

/** How long a round holds its rows: far longer than a publish takes, even to a struggling broker. */
const LEASE_SECONDS = 30;

/** Takes a round's rows: the oldest not leased (or whose lease ran out), with their orders' fields. */
const LEASE: PreparedStatement = {
  name: 'orders.outbox-lease',
  text: `UPDATE outbox SET leased_until = now() + make_interval(secs => $2)
         FROM orders o
        WHERE outbox.id IN (SELECT id FROM outbox WHERE leased_until IS NULL OR leased_until < now()
                             ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
          AND o.id = outbox.order_id
       RETURNING outbox.id, outbox.kind, outbox.status, outbox.message, outbox.at, outbox.trace_context,
                 o.id AS order_id, o.side, o.user_id, o.quantity, o.price, o.total, o.created_at, o.client_order_id`,
};

const DELETE_DELIVERED: PreparedStatement = {
  name: 'orders.outbox-delete',
  text: 'DELETE FROM outbox WHERE id = ANY($1::bigint[])',
};

/** An outbox row with the immutable fields of its order, joined in at delivery. */
interface OutboxRow {
  id: string;
  kind: 'verification-request' | 'status';
  status: OrderStatus;
  message: string;
  at: Date;
  /** The trace the row was written in (W3C headers), continued by its delivery. */
  trace_context: Record<string, string> | null;
  order_id: string;
  side: OrderSide;
  user_id: string;
  quantity: number;
  price: string;
  total: string;
  created_at: Date;
  client_order_id: string | null;
}

/** The status event of an outbox row: the order as it was at that change. */
function statusEvent(row: OutboxRow): OrderStatusEvent {
  const at = row.at.toISOString();
  return {
    orderId: row.order_id,
    userId: row.user_id,
    status: row.status,
    message: row.message,
    at,
    order: {
      id: row.order_id,
      side: row.side,
      quantity: row.quantity,
      price: moneyFromColumn(row.price),
      total: moneyFromColumn(row.total),
      status: row.status,
      message: row.message,
      createdAt: row.created_at.toISOString(),
      updatedAt: at,
      clientOrderId: row.client_order_id,
    },
  };
}

function verificationRequest(row: OutboxRow): VerificationRequest {
  return { orderId: row.order_id, userId: row.user_id, side: row.side, requestedAt: row.at.toISOString() };
}

const DEFAULT_BATCH_SIZE = 200;

export interface OutboxRelayOptions {
  dataSource: DataSource;
  producer: Producer;
  statusPublisher: OrderStatusPublisher;
  topics: { verificationRequests: string; statusChanges: string };
  pollMs: number;
  logger: Logger;
  registry: Registry;
  batchSize?: number;
}

/**
 * Delivers the outbox, oldest first: verification requests to Kafka, and every status change to
 * Kafka (the durable record) and to the order's Redis channel (where gateways listen for their
 * subscribers); this is the one place a status change is announced. A round leases the oldest
 * rows (SKIP LOCKED, so replicas share the work), delivers them and deletes them: two statements
 * and no transaction held open across the publish. A relay that dies in between leaves its rows to
 * be delivered again when the lease runs out, which every receiver absorbs (keyed by order id, a
 * status is a state). A failed round gives its rows back at once and is retried from the oldest,
 * so an order's messages keep their order.
 */
export class OutboxRelay {
  private readonly loop: DeliveryLoop;
  private readonly delivered: Counter<'kind'>;
  private readonly failures: Counter<'kind'>;

  constructor(private readonly options: OutboxRelayOptions) {
    this.loop = new DeliveryLoop({
      round: () => this.deliverBatch(),
      batchSize: options.batchSize ?? DEFAULT_BATCH_SIZE,
      pollMs: options.pollMs,
      logger: options.logger,
    });
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
        const [row] = await options.dataSource.query<Array<{ count: string }>>('SELECT count(*) FROM outbox');
        this.set(Number(row?.count ?? 0));
      },
    });
  }

  start(): void {
    this.loop.start();
  }

  /** Something was written to the outbox: deliver it now rather than at the next poll. */
  notify(): void {
    this.loop.notify();
  }

  /** Stops polling and waits for the round in progress. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Delivers one batch; returns how many rows it delivered. */
  private async deliverBatch(): Promise<number> {
    const { dataSource, batchSize = DEFAULT_BATCH_SIZE } = this.options;
    const leased = await queryPrepared<OutboxRow>(dataSource, LEASE, [batchSize, LEASE_SECONDS]);
    if (leased.length === 0) return 0;
    const rows = leased.sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)));
    const ids = rows.map(({ id }) => id);
    try {
      await this.deliver(rows);
    } catch (error) {
      this.failures.inc({ kind: rows[0]!.kind }, rows.length);
      await dataSource.query(
        'UPDATE outbox SET leased_until = NULL, attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::bigint[])',
        [ids, error instanceof Error ? error.message.slice(0, 500) : String(error)],
      );
      this.options.logger.warn({ err: error, failed: rows.length }, 'outbox delivery failed; will retry');
      return 0;
    }
    await queryPrepared(dataSource, DELETE_DELIVERED, [ids]);
    for (const row of rows) this.delivered.inc({ kind: row.kind });
    return rows.length;
  }

  private async deliver(rows: OutboxRow[]): Promise<void> {
    const { producer, statusPublisher, topics } = this.options;
    const spans = rows.map((row) => {
      const topic = row.kind === 'verification-request' ? topics.verificationRequests : topics.statusChanges;
      return startProducerSpan(
        'orders',
        `publish ${topic}`,
        extractTraceContext(row.trace_context ?? undefined),
      );
    });
    const statusEvents = new Map<OutboxRow, OrderStatusEvent>();
    for (const row of rows) if (row.kind === 'status') statusEvents.set(row, statusEvent(row));
    const kafkaMessages = rows.map((row, index) => {
      const { headers } = spans[index]!;
      const value = row.kind === 'status' ? statusEvents.get(row)! : verificationRequest(row);
      return {
        topic: row.kind === 'status' ? topics.statusChanges : topics.verificationRequests,
        messages: [{ key: row.order_id, value: encodeJson(value), headers }],
      };
    });
    // Subscribers need not wait for Kafka's acknowledgement: both go out at once, and both must
    // succeed for the rows to count as delivered; a repeat after a failure is harmless to either.
    try {
      await Promise.all([
        producer.sendBatch({ acks: -1, topicMessages: kafkaMessages }),
        statusPublisher.publish([...statusEvents.values()]),
      ]);
      for (const span of spans) span.end();
    } catch (error) {
      for (const span of spans) span.end(error);
      throw error;
    }
  }
}
