import {
  createRedis,
  orderStatusChannel,
  orderStatusEventSchema,
  type Logger,
  type OrderStatusEvent,
  type Redis,
} from '@brokerage/common';

/**
 * Called on every change of a watched order, with the change's event; without one when changes
 * may have been missed or the event could not be read: the listener has to look for itself.
 */
export type OrderStatusListener = (event: OrderStatusEvent | undefined) => void;

/**
 * Order status changes from Redis pub/sub (the orders service publishes on one channel per
 * order), shared by every socket of this gateway process: one SUBSCRIBE per order however many
 * clients watch it, and an UNSUBSCRIBE when the last one leaves. Any gateway replica can serve any
 * client, as every replica hears every channel it subscribes to.
 */
export class OrderStatusFeed {
  private readonly subscriber: Redis;
  private readonly listeners = new Map<string, Set<OrderStatusListener>>();
  private readonly subscribing = new Map<string, Promise<unknown>>();

  constructor(
    redisUrl: string,
    private readonly channelPrefix: string,
    logger: Logger,
  ) {
    const feedLogger = logger.child({ component: 'status-feed' });
    this.subscriber = createRedis({ url: redisUrl, keyPrefix: '', logger: feedLogger });
    this.subscriber.on('message', (channel: string, message: string) => {
      const listeners = this.listeners.get(channel);
      if (!listeners) return;
      let event: OrderStatusEvent | undefined;
      try {
        event = orderStatusEventSchema.parse(JSON.parse(message));
      } catch (error) {
        feedLogger.warn({ err: error, channel }, 'unreadable order status event; subscribers look again');
      }
      for (const listener of listeners) listener(event);
    });
    // Changes published while the connection was down were missed: everyone looks again.
    let connectedBefore = false;
    this.subscriber.on('ready', () => {
      if (connectedBefore)
        for (const set of this.listeners.values()) for (const listener of set) listener(undefined);
      connectedBefore = true;
    });
  }

  /** Calls `listener` on every change of the order; resolves once Redis confirmed the subscription. */
  async watch(orderId: string, listener: OrderStatusListener): Promise<() => void> {
    const channel = orderStatusChannel(this.channelPrefix, orderId);
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      this.subscribing.set(
        channel,
        this.subscriber.subscribe(channel).finally(() => this.subscribing.delete(channel)),
      );
    }
    set.add(listener);
    await this.subscribing.get(channel);
    return () => {
      const current = this.listeners.get(channel);
      if (!current?.delete(listener) || current.size > 0) return;
      this.listeners.delete(channel);
      void this.subscriber.unsubscribe(channel).catch(() => undefined);
    };
  }

  /** Orders watched right now (one Redis subscription each). */
  get watchedOrders(): number {
    return this.listeners.size;
  }

  async ready(): Promise<void> {
    if (this.subscriber.status !== 'ready') throw new Error(`redis subscriber is ${this.subscriber.status}`);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.subscriber.quit();
  }
}
