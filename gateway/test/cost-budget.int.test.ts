import { randomUUID } from 'node:crypto';
import { createRedis } from '@brokerage/redis';
import { createLogger } from '@brokerage/service';
import { testRedisUrl } from '../../test/support/services';
import { CostBudget } from '../src/security/cost-budget';

describe('read budget spends of requests that arrive together', () => {
  const prefix = `test:cost-budget:${randomUUID()}:`;
  // As the gateway makes its command client: auto-pipelined.
  const redis = createRedis({
    url: testRedisUrl,
    keyPrefix: '',
    logger: createLogger({ service: 'test', level: 'silent' }),
    autoPipelining: true,
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('go to Redis as one write, in order, each with its own verdict', async () => {
    await redis.ping();
    const budget = new CostBudget(redis, { limit: 10, windowMs: 60_000, keyPrefix: prefix });
    const spends = [budget.spend('user:1', 3), budget.spend('user:1', 3), budget.spend('user:2', 3)];
    spends.push(budget.spend('user:1', 3), budget.spend('user:1', 3));
    // Queued together until the loop's next turn, then sent as one pipeline.
    expect(redis.autoPipelineQueueSize).toBe(5);
    const verdicts = await Promise.all(spends);
    expect(verdicts.map(({ allowed, remaining }) => ({ allowed, remaining }))).toEqual([
      { allowed: true, remaining: 7 },
      { allowed: true, remaining: 4 },
      { allowed: true, remaining: 7 },
      { allowed: true, remaining: 1 },
      // Over the limit: refused, and spends nothing.
      { allowed: false, remaining: 1 },
    ]);
    expect(await redis.get(`${prefix}user:1`)).toBe('9');
  });
});
