import {
  createRedis,
  pricePointsChannel,
  pricePointsEventSchema,
  type Logger,
  type PricePointsEvent,
  type Redis,
} from '@brokerage/common';

/**
 * Called with every announcement of new points of a watched stock; without one when announcements
 * may have been missed (the connection to Redis was lost) or one could not be read: the listener
 * has to read the latest point itself.
 */
export type PricePointsListener = (event: PricePointsEvent | undefined) => void;

/**
 * New minute points from Redis pub/sub (the price ingestor publishes on one channel per stock),
 * shared by every socket of this gateway process: one SUBSCRIBE per stock however many clients
 * watch it, and an UNSUBSCRIBE when the last one leaves (reference counted by listener).
 */
export class PricePointsFeed {
  private readonly subscriber: Redis;
  private readonly listeners = new Map<string, Set<PricePointsListener>>();
  private readonly subscribing = new Map<string, Promise<unknown>>();

  constructor(
    redisUrl: string,
    private readonly channelPrefix: string,
    logger: Logger,
  ) {
    const feedLogger = logger.child({ component: 'price-feed' });
    this.subscriber = createRedis({ url: redisUrl, keyPrefix: '', logger: feedLogger });
    this.subscriber.on('message', (channel: string, message: string) => {
      const listeners = this.listeners.get(channel);
      if (!listeners) return;
      let event: PricePointsEvent | undefined;
      try {
        event = pricePointsEventSchema.parse(JSON.parse(message));
      } catch (error) {
        feedLogger.warn({ err: error, channel }, 'unreadable price points; subscribers read the latest');
      }
      for (const listener of listeners) listener(event);
    });
    // Points published while the connection was down were missed: everyone reads the latest.
    let connectedBefore = false;
    this.subscriber.on('ready', () => {
      if (connectedBefore)
        for (const set of this.listeners.values()) for (const listener of set) listener(undefined);
      connectedBefore = true;
    });
  }

  /** Calls `listener` on every announcement of the stock; resolves once Redis confirmed the subscription. */
  async watch(symbol: string, listener: PricePointsListener): Promise<() => void> {
    const channel = pricePointsChannel(this.channelPrefix, symbol);
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

  /** Stocks watched right now (one Redis subscription each). */
  get watchedStocks(): number {
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
