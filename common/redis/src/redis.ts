import { Redis } from 'ioredis';
import type { Logger } from '@brokerage/service';

export type { Redis };

export interface RedisOptions {
  url: string;
  /** Every key this client touches lives under this prefix: one prefix per owning service. */
  keyPrefix: string;
  logger: Logger;
  /** Subscriber connections must not use a key prefix for channels; say so explicitly. */
  lazyConnect?: boolean;
  /**
   * For a client a request waits on (the gateway's limits, the stocks service's price reads):
   * once it has been connected, a command sent while Redis is unreachable fails at once, and one
   * in flight when the connection drops fails then, so that the request is answered
   * (DEPENDENCY_UNAVAILABLE, or without the limit) instead of waiting through the reconnection
   * attempts. Workers leave it off: their commands wait for Redis and are not lost. Either way the
   * client reconnects by itself.
   */
  failFast?: boolean;
  /**
   * Commands issued in the same turn of the event loop (by requests that arrived together) go to
   * Redis as one write, in the order they were issued, each with its own answer (ioredis'
   * auto-pipelining). For a client many concurrent requests call once each.
   */
  autoPipelining?: boolean;
}

export function createRedis({
  url,
  keyPrefix,
  logger,
  lazyConnect = false,
  failFast = false,
  autoPipelining = false,
}: RedisOptions): Redis {
  const redis = new Redis(url, {
    keyPrefix,
    lazyConnect,
    enableAutoPipelining: autoPipelining,
    // A queued or unanswered command fails after this many reconnection attempts (0: at once).
    maxRetriesPerRequest: failFast ? 0 : 3,
    // Reconnect with a capped backoff forever: Redis coming back must heal the service by itself.
    retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
  });
  // The commands of a starting service wait for the first connection; only later ones fail fast.
  if (failFast) redis.once('ready', () => (redis.options.enableOfflineQueue = false));
  const log = logger.child({ component: 'redis' });
  redis.on('error', (error: Error) => log.warn({ err: error }, 'redis connection error'));
  redis.on('ready', () => log.debug('redis ready'));
  return redis;
}

export function redisReadiness(redis: Redis) {
  return async () => {
    await redis.ping();
  };
}

/**
 * Closes a client at a service's stop: QUIT when connected (Redis answers what was sent before
 * it), otherwise drops the connection and ends the reconnection attempts. A fail-fast client
 * refuses QUIT while Redis is unreachable, and a patient one would queue it until Redis is back:
 * either way the stop must not fail or wait on Redis.
 */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    try {
      await redis.quit();
      return;
    } catch {
      // The connection dropped while quitting: nothing is left to say to Redis.
    }
  }
  redis.disconnect();
}
