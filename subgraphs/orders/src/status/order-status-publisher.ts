import { orderStatusChannel, type Logger, type OrderStatusEvent, type Redis } from '@brokerage/common';
import { Counter, type Registry } from 'prom-client';
import type { OrderRecord } from '../db/order-record';
import { orderStatusEvent } from './order-status-event';

/**
 * Announces status changes on each order's Redis channel, where the gateways listen for their
 * subscribers. Every change is announced by the outbox relay, durably and after its credit has
 * settled. A final status is also announced the moment its transaction commits, so that a
 * subscriber waiting for it does not wait for the users service and Kafka as well; the outbox's
 * announcement follows, and listeners take the repeat as no change.
 */
export class OrderStatusPublisher {
  private readonly announcedAtCommit: Counter<'result'>;

  constructor(
    private readonly redis: Redis,
    private readonly channelPrefix: string,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    this.announcedAtCommit = new Counter({
      name: 'order_status_announced_at_commit_total',
      help: 'Final statuses announced on Redis as soon as they committed, before the outbox, by result',
      labelNames: ['result'],
      registers: [registry],
    });
  }

  /** Publishes the events in one round trip; rejects when any of them was not published. */
  async publish(events: readonly OrderStatusEvent[]): Promise<void> {
    if (events.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const event of events) {
      pipeline.publish(orderStatusChannel(this.channelPrefix, event.orderId), JSON.stringify(event));
    }
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([error]) => error);
    if (failed?.[0]) throw failed[0];
  }

  /**
   * Announces a status that has just committed, not waiting for its credit to settle. Best effort:
   * when Redis fails, subscribers hear of the change from the outbox a little later.
   */
  announceCommitted(order: OrderRecord): void {
    this.publish([orderStatusEvent(order, false)]).then(
      () => this.announcedAtCommit.inc({ result: 'published' }),
      (error: unknown) => {
        this.announcedAtCommit.inc({ result: 'failed' });
        this.logger.warn({ err: error, orderId: order.id }, 'could not announce a committed status');
      },
    );
  }
}
