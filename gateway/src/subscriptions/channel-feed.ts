import { closeRedis, createRedis, type Redis } from '@brokerage/redis';
import { type Logger } from '@brokerage/service';

/**
 * Called with every message of a watched channel, decoded; without one when messages may have
 * been missed (the connection to Redis was lost) or one could not be read: the listener has to
 * look for itself.
 */
export type ChannelListener<E> = (event: E | undefined) => void;

export interface ChannelFeedOptions<E> {
  redisUrl: string;
  logger: Logger;
  /** The logger's component name. */
  component: string;
  /** The channel a watched key (an order id, a stock symbol) is announced on. */
  channelOf(key: string): string;
  /** Decodes a message; throws for one that is not valid. */
  decode(message: string): E;
  /** Logged when a message cannot be decoded. */
  unreadable: string;
}

/**
 * Announcements from Redis pub/sub (one channel per watched thing), shared by every socket of
 * this gateway process: one SUBSCRIBE per channel however many clients watch it, and an
 * UNSUBSCRIBE when the last one leaves. Any gateway replica can serve any client, as every replica
 * hears every channel it subscribes to.
 */
export class ChannelFeed<E> {
  private readonly subscriber: Redis;
  private readonly listeners = new Map<string, Set<ChannelListener<E>>>();
  private readonly subscribing = new Map<string, Promise<unknown>>();

  constructor(private readonly options: ChannelFeedOptions<E>) {
    const feedLogger = options.logger.child({ component: options.component });
    this.subscriber = createRedis({ url: options.redisUrl, keyPrefix: '', logger: feedLogger });
    this.subscriber.on('message', (channel: string, message: string) => {
      const listeners = this.listeners.get(channel);
      if (!listeners) return;
      let event: E | undefined;
      try {
        event = options.decode(message);
      } catch (error) {
        feedLogger.warn({ err: error, channel }, options.unreadable);
      }
      for (const listener of listeners) listener(event);
    });
    // Messages published while the connection was down were missed: everyone looks again.
    let connectedBefore = false;
    this.subscriber.on('ready', () => {
      if (connectedBefore)
        for (const set of this.listeners.values()) for (const listener of set) listener(undefined);
      connectedBefore = true;
    });
  }

  /** Calls `listener` on every message about `key`; resolves once Redis confirmed the subscription. */
  async watch(key: string, listener: ChannelListener<E>): Promise<() => void> {
    const channel = this.options.channelOf(key);
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      const watchers = set;
      this.subscribing.set(
        channel,
        this.subscriber
          .subscribe(channel)
          .catch((error: unknown) => {
            // Not subscribed (Redis unreachable): every watcher waiting on it is refused, and the
            // channel is forgotten, so that the next watch subscribes afresh instead of waiting on
            // a channel Redis was never asked for.
            if (this.listeners.get(channel) === watchers) this.listeners.delete(channel);
            throw error;
          })
          .finally(() => this.subscribing.delete(channel)),
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

  /** Channels watched right now (one Redis subscription each). */
  get watched(): number {
    return this.listeners.size;
  }

  async ready(): Promise<void> {
    if (this.subscriber.status !== 'ready') throw new Error(`redis subscriber is ${this.subscriber.status}`);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await closeRedis(this.subscriber);
  }
}
