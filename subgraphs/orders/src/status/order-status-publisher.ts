import { type Redis } from '@brokerage/redis';
import { orderStatusChannel, type OrderStatusEvent } from '@brokerage/orders-contract';

/**
 * Publishes status changes on each order's Redis channel, where the gateways listen for their
 * subscribers. The outbox relay is its one caller: every change is announced once, after it
 * committed, with everything it changed (cash, shares) already committed with it.
 */
export class OrderStatusPublisher {
  constructor(
    private readonly redis: Redis,
    private readonly channelPrefix: string,
  ) {}

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
}
