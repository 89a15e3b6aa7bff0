import { createRedis, type Redis } from '@brokerage/common';
import { testLogger, testRedisUrl, uniqueSuffix } from '../../test/support/services';

describe('Redis with a per-owner key prefix', () => {
  const prefix = `test:${uniqueSuffix()}:`;
  let owned: Redis;
  let raw: Redis;

  beforeAll(() => {
    owned = createRedis({ url: testRedisUrl, keyPrefix: prefix, logger: testLogger('redis-smoke') });
    raw = createRedis({ url: testRedisUrl, keyPrefix: '', logger: testLogger('redis-smoke') });
  });

  afterAll(async () => {
    const keys = await raw.keys(`${prefix}*`);
    if (keys.length > 0) await raw.del(...keys);
    owned.disconnect();
    raw.disconnect();
  });

  it('stores a key under the owner prefix and reads it back', async () => {
    await owned.set('greeting', 'hello', 'EX', 60);
    expect(await owned.get('greeting')).toBe('hello');
    expect(await raw.get(`${prefix}greeting`)).toBe('hello');
    expect(await raw.get('greeting')).toBeNull();
  });
});
