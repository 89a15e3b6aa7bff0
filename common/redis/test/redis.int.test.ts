import { closeRedis, createRedis, type Redis } from '@brokerage/redis';
import { isStoreUnavailable } from '@brokerage/service';
import { startTcpProxy, type TcpProxy } from '../../../scripts/tcp-front';
import { eventually } from '../../../test/support/price-series';
import { testLogger, testRedisUrl, uniqueSuffix } from '../../../test/support/services';

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

// Redis reached through a front the test cuts, as a network partition would.
describe('Redis unreachable', () => {
  const prefix = `test:${uniqueSuffix()}:`;
  let front: TcpProxy;
  let failFast: Redis;
  let patient: Redis;

  beforeAll(async () => {
    const direct = new URL(testRedisUrl);
    front = await startTcpProxy([`${direct.hostname}:${direct.port || 6379}`]);
    const url = `redis://${front.address}`;
    failFast = createRedis({ url, keyPrefix: prefix, logger: testLogger('redis'), failFast: true });
    patient = createRedis({ url, keyPrefix: prefix, logger: testLogger('redis') });
    await Promise.all([failFast.set('k', 'before', 'EX', 60), patient.ping()]);
  });

  afterAll(async () => {
    front.restore();
    await patient.del('k', 'queued');
    failFast.disconnect();
    patient.disconnect();
    await front.close();
  });

  it('fails a fail-fast client’s commands at once, as an outage, and reconnects it when Redis is back', async () => {
    front.cut();
    try {
      const waits: number[] = [];
      for (let attempt = 0; attempt < 5; attempt += 1) {
        const started = Date.now();
        const error = await failFast.get('k').then(
          () => undefined,
          (caught: unknown) => caught,
        );
        waits.push(Date.now() - started);
        expect(isStoreUnavailable(error)).toBe(true);
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      expect(Math.max(...waits)).toBeLessThan(1_000);
    } finally {
      front.restore();
    }
    const read = await eventually(
      () => failFast.get('k').catch(() => undefined),
      (value) => value === 'before',
      10_000,
    );
    expect(read).toBe('before');
  });

  it('keeps a worker’s command queued while Redis is away, and runs it once it is back', async () => {
    front.cut();
    const write = patient.set('queued', 'kept', 'EX', 60);
    await new Promise((resolve) => setTimeout(resolve, 500));
    front.restore();
    await expect(write).resolves.toBe('OK');
    expect(await patient.get('queued')).toBe('kept');
  });

  it('closes a client at a stop while Redis is unreachable, without failing or waiting', async () => {
    const url = `redis://${front.address}`;
    const clients = [
      createRedis({ url, keyPrefix: prefix, logger: testLogger('redis'), failFast: true }),
      createRedis({ url, keyPrefix: prefix, logger: testLogger('redis') }),
    ];
    await Promise.all(clients.map((client) => client.ping()));
    front.cut();
    try {
      await eventually(
        async () => clients.map((client) => client.status),
        (statuses) => statuses.every((status) => status !== 'ready'),
        10_000,
      );
      // What a stop did before: the fail-fast client refuses QUIT outright.
      await expect(clients[0]!.quit()).rejects.toThrow();
      const started = Date.now();
      await Promise.all(clients.map((client) => closeRedis(client)));
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      front.restore();
    }
    // Closed for good: Redis reachable again (the first retries come within a second) does not
    // bring them back.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(clients.map((client) => client.status)).not.toContain('ready');
  });
});
