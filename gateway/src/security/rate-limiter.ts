import type { Redis } from 'ioredis';

// Counts in a fixed window per key. The first hit of a window starts its expiry; PTTL is the wait
// until the window ends. One round trip, atomic, and shared by every gateway replica.
const CONSUME = `
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { count, ttl }
`;

export interface RateVerdict {
  allowed: boolean;
  remaining: number;
  /** Until the window ends: when refused, how long to wait. */
  resetMs: number;
}

type RedisWithConsume = Redis & {
  consumeRate(key: string, windowMs: number, cost: number): Promise<[number, number]>;
};

/** A per-caller budget of `limit` units per `windowMs`, held in Redis. */
export class RateLimiter {
  private readonly redis: RedisWithConsume;

  constructor(
    redis: Redis,
    private readonly options: { limit: number; windowMs: number; keyPrefix: string },
  ) {
    redis.defineCommand('consumeRate', { numberOfKeys: 1, lua: CONSUME });
    this.redis = redis as RedisWithConsume;
  }

  async consume(key: string, cost = 1): Promise<RateVerdict> {
    const [count, ttl] = await this.redis.consumeRate(
      `${this.options.keyPrefix}${key}`,
      this.options.windowMs,
      cost,
    );
    return {
      allowed: count <= this.options.limit,
      remaining: Math.max(0, this.options.limit - count),
      resetMs: ttl,
    };
  }
}
