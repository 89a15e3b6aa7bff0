import { moneyFromColumn } from '@brokerage/graphql';
import { OutboxRelayBase } from '@brokerage/postgres';
import { encodeJson, extractTraceContext, startProducerSpan, type Logger } from '@brokerage/service';
import {
  type OrderSide,
  type OrderStatus,
  type OrderStatusEvent,
  type VerificationRequest,
} from '@brokerage/orders-contract';
import type { Producer } from 'kafkajs';
import { Counter, type Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { OrderStatusPublisher } from '../status/order-status-publisher';

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
 * Delivers the orders outbox: verification requests to Kafka, and every status change to Kafka
 * (the durable record) and to the order's Redis channel (where gateways listen for their
 * subscribers); this is the one place a status change is announced. Every receiver absorbs a
 * repeat (keyed by order id, a status is a state). How rows are leased, retried in order and
 * deleted is OutboxRelayBase's.
 */
export class OutboxRelay extends OutboxRelayBase<OutboxRow> {
  private readonly deliveredCount: Counter<'kind'>;
  private readonly failures: Counter<'kind'>;

  constructor(private readonly options: OutboxRelayOptions) {
    super({
      ...options,
      batchSize: options.batchSize ?? DEFAULT_BATCH_SIZE,
      backlogHelp: 'Outbox messages not delivered yet',
      lease: {
        name: 'orders.outbox',
        join: { from: 'orders o', on: 'o.id = outbox.order_id' },
        returning: `outbox.id, outbox.kind, outbox.status, outbox.message, outbox.at, outbox.trace_context,
                    o.id AS order_id, o.side, o.user_id, o.quantity, o.price, o.total, o.created_at, o.client_order_id`,
      },
    });
    this.deliveredCount = new Counter({
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
  }

  protected delivered(rows: OutboxRow[]): void {
    for (const row of rows) this.deliveredCount.inc({ kind: row.kind });
  }

  protected override failed(rows: OutboxRow[]): void {
    this.failures.inc({ kind: rows[0]!.kind }, rows.length);
  }

  protected async deliver(rows: OutboxRow[]): Promise<void> {
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
