import { Redis } from 'ioredis';
import type { Logger } from './logger';

export type { Redis };

export interface RedisOptions {
  url: string;
  /** Every key this client touches lives under this prefix: one prefix per owning service. */
  keyPrefix: string;
  logger: Logger;
  /** Subscriber connections must not use a key prefix for channels; say so explicitly. */
  lazyConnect?: boolean;
}

export function createRedis({ url, keyPrefix, logger, lazyConnect = false }: RedisOptions): Redis {
  const redis = new Redis(url, {
    keyPrefix,
    lazyConnect,
    maxRetriesPerRequest: 3,
    // Reconnect with a capped backoff forever: Redis coming back must heal the service by itself.
    retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
  });
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
