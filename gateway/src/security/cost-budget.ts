import type { Redis } from 'ioredis';

// Spends `cost` from a fixed window's budget only when it fits: a refused operation spends
// nothing, so a client that asked too much can still send something cheaper. The window starts
// with its first spend. One round trip, atomic, and shared by every gateway replica.
const SPEND = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local cost = tonumber(ARGV[2])
if used + cost > tonumber(ARGV[3]) then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 0 then ttl = tonumber(ARGV[1]) end
  return { 0, used, ttl }
end
used = redis.call('INCRBY', KEYS[1], cost)
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { 1, used, ttl }
`;

export interface BudgetVerdict {
  allowed: boolean;
  /** Points left in this window after this operation (before it, when refused). */
  remaining: number;
  /** Until the window ends and the budget is whole again. */
  resetMs: number;
}

type RedisWithSpend = Redis & {
  spendBudget(key: string, windowMs: number, cost: number, limit: number): Promise<[number, number, number]>;
};

/** A per-caller budget of `limit` points per `windowMs`, held in Redis. */
export class CostBudget {
  private readonly redis: RedisWithSpend;

  constructor(
    redis: Redis,
    readonly options: { limit: number; windowMs: number; keyPrefix: string },
  ) {
    redis.defineCommand('spendBudget', { numberOfKeys: 1, lua: SPEND });
    this.redis = redis as RedisWithSpend;
  }

  async spend(key: string, cost: number): Promise<BudgetVerdict> {
    const { limit, windowMs, keyPrefix } = this.options;
    const [allowed, used, ttl] = await this.redis.spendBudget(`${keyPrefix}${key}`, windowMs, cost, limit);
    return { allowed: allowed === 1, remaining: Math.max(0, limit - used), resetMs: ttl };
  }
}
