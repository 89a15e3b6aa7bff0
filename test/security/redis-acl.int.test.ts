import { randomBytes } from 'node:crypto';
import { createRedis, type Redis } from '@brokerage/redis';
import { defaultStoreNames, storeAccess, type ServiceName } from '../../scripts/store-access';
import { RateLimiter } from '../../gateway/src/security/rate-limiter';
import { PriceReader } from '../../subgraphs/stocks/src/prices/price-reader';
import { MinuteSeriesStore } from '../../workers/price-ingestor/src/minute-series-store';
import { provisionRedisUser } from '../../scripts/provision-stores';
import { testLogger, testRedisUrl, uniqueSuffix } from '../support/services';

const suffix = uniqueSuffix();
// The platform's names, under this suite's own prefixes.
const names = {
  ...defaultStoreNames,
  redis: {
    rateLimitPrefix: `test:${suffix}:ratelimit:`,
    orderStatusChannelPrefix: `test:${suffix}:order-status:`,
    pricesKeyPrefix: `test:${suffix}:prices:`,
    priceFetcherPrefix: `test:${suffix}:price-fetcher:`,
    pricePointsChannelPrefix: `test:${suffix}:price-points:`,
  },
};
const access = storeAccess(names);
const services = ['gateway', 'stocks', 'orders', 'price-fetcher', 'price-ingestor'] as const;
const password = randomBytes(12).toString('hex');

/** A service's Redis URL: its own ACL user of this suite. */
function serviceUrl(service: ServiceName): string {
  const url = new URL(testRedisUrl);
  url.username = `test-${suffix}-${service}`;
  url.password = password;
  return url.toString();
}

/** The error Redis answers a command with, or undefined when it runs. */
async function refusal(command: Promise<unknown>): Promise<string | undefined> {
  try {
    await command;
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

describe('each service reaches Redis as its own ACL user, limited to its keys and channels', () => {
  let admin: Redis;
  const clients: Redis[] = [];
  const as = (service: ServiceName, keyPrefix = '') => {
    const client = createRedis({ url: serviceUrl(service), keyPrefix, logger: testLogger('redis') });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    admin = createRedis({ url: testRedisUrl, keyPrefix: '', logger: testLogger('redis') });
    for (const service of services)
      await provisionRedisUser(admin, serviceUrl(service), access[service].redis!, testLogger('provision'));
    // A key of every service, written as the administrator.
    await admin.set(`${names.redis.rateLimitPrefix}user:1`, '3');
    await admin.set(`${names.redis.pricesKeyPrefix}stock1`, '{"time":[],"price":[]}');
    await admin.set(`${names.redis.priceFetcherPrefix}replay`, '{}');
  });

  afterAll(async () => {
    for (const client of clients) client.disconnect();
    const keys = await admin.keys(`test:${suffix}:*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.call('ACL', 'DELUSER', ...services.map((service) => `test-${suffix}-${service}`));
    admin.disconnect();
  });

  it('lets each service connect and use its own keys', async () => {
    const gateway = as('gateway');
    expect(await gateway.incr(`${names.redis.rateLimitPrefix}user:1`)).toBe(4);
    // The rate limits and read budgets run as Lua scripts over their own keys.
    expect(
      await gateway.eval(
        "return redis.call('INCRBY', KEYS[1], ARGV[1])",
        1,
        `${names.redis.rateLimitPrefix}x`,
        2,
      ),
    ).toBe(2);
    expect(await as('stocks').get(`${names.redis.pricesKeyPrefix}stock1`)).toContain('time');
    expect(await as('price-ingestor').set(`${names.redis.pricesKeyPrefix}stock2`, '{}')).toBe('OK');
    expect(await as('price-fetcher').get(`${names.redis.priceFetcherPrefix}replay`)).toBe('{}');
  });

  it("refuses a service another service's keys", async () => {
    const gateway = as('gateway');
    const fetcher = as('price-fetcher');
    const ingestor = as('price-ingestor');
    const orders = as('orders');
    const stocks = as('stocks');
    const refusals = await Promise.all([
      refusal(gateway.get(`${names.redis.priceFetcherPrefix}replay`)),
      refusal(gateway.set(`${names.redis.pricesKeyPrefix}stock1`, 'forged')),
      refusal(gateway.eval("return redis.call('GET', KEYS[1])", 1, `${names.redis.pricesKeyPrefix}stock1`)),
      refusal(fetcher.get(`${names.redis.rateLimitPrefix}user:1`)),
      refusal(fetcher.del(`${names.redis.rateLimitPrefix}user:1`)),
      refusal(ingestor.set(`${names.redis.priceFetcherPrefix}replay`, 'forged')),
      refusal(orders.get(`${names.redis.rateLimitPrefix}user:1`)),
      // The stocks subgraph reads the price series and may not change them.
      refusal(stocks.set(`${names.redis.pricesKeyPrefix}stock1`, 'forged')),
      refusal(stocks.get(`${names.redis.rateLimitPrefix}user:1`)),
    ]);
    for (const message of refusals) expect(message).toMatch(/^NOPERM/);
    expect(await admin.get(`${names.redis.pricesKeyPrefix}stock1`)).toContain('time');
    expect(await admin.get(`${names.redis.rateLimitPrefix}user:1`)).not.toBeNull();
  });

  it('refuses every service the commands that reach beyond its keys', async () => {
    const gateway = as('gateway');
    for (const command of [
      gateway.flushall(),
      gateway.keys('*'),
      gateway.config('GET', 'requirepass'),
      gateway.call('ACL', 'LIST'),
    ])
      expect(await refusal(command)).toMatch(/^NOPERM/);
  });

  it('lets the orders service publish and the gateway subscribe on the order status channels only', async () => {
    const subscriber = as('gateway');
    const channel = `${names.redis.orderStatusChannelPrefix}42`;
    const received = new Promise<string>((resolve) =>
      subscriber.on('message', (_channel, message) => resolve(message)),
    );
    await subscriber.subscribe(channel);
    expect(await as('orders').publish(channel, 'COMPLETED')).toBe(1);
    expect(await received).toBe('COMPLETED');

    // A channel that is no one's, and the order channels for a service that is not in the order flow.
    const foreign = `test:${suffix}:elsewhere:1`;
    expect(await refusal(as('gateway').subscribe(foreign))).toMatch(/^NOPERM/);
    expect(await refusal(as('orders').publish(foreign, 'forged'))).toMatch(/^NOPERM/);
    expect(await refusal(as('price-fetcher').subscribe(channel))).toMatch(/^NOPERM/);
    expect(await refusal(as('price-ingestor').publish(channel, 'forged'))).toMatch(/^NOPERM/);
  });

  it('lets the price ingestor announce minute points to the gateway, and nobody else', async () => {
    const subscriber = as('gateway');
    const channel = `${names.redis.pricePointsChannelPrefix}stock1`;
    const received = new Promise<string>((resolve) =>
      subscriber.on('message', (_channel, message) => resolve(message)),
    );
    await subscriber.subscribe(channel);
    // The ingestor announces from the script that writes the series.
    expect(
      await as('price-ingestor').eval(
        "redis.call('SET', KEYS[1], ARGV[2]); return redis.call('PUBLISH', ARGV[1], ARGV[2])",
        1,
        `${names.redis.pricesKeyPrefix}stock1:points`,
        channel,
        '{"time":["090100"]}',
      ),
    ).toBe(1);
    expect(await received).toBe('{"time":["090100"]}');
    expect(await refusal(as('orders').publish(channel, 'forged'))).toMatch(/^NOPERM/);
    expect(await refusal(as('stocks').publish(channel, 'forged'))).toMatch(/^NOPERM/);
  });

  it("runs each service's own Redis code under its user", async () => {
    // The ingestor writes a minute and announces it, the gateway hears it, the stocks subgraph reads it.
    const listener = as('gateway');
    const announced = new Promise<string>((resolve) =>
      listener.on('message', (_channel, message) => resolve(message)),
    );
    await listener.subscribe(`${names.redis.pricePointsChannelPrefix}acl9`);
    const store = new MinuteSeriesStore(as('price-ingestor', names.redis.pricesKeyPrefix), {
      pointsChannelPrefix: names.redis.pricePointsChannelPrefix,
    });
    await store.apply([
      { stockId: '9', symbol: 'acl9', date: '20261121', time: '090000', seq: 1, price: 1234 },
    ]);
    expect(JSON.parse(await announced)).toMatchObject({ symbol: 'acl9', price: [1234] });
    const reader = new PriceReader(as('stocks', names.redis.pricesKeyPrefix), 'Asia/Tehran');
    expect(await reader.lastPrices(['acl9'])).toEqual([expect.objectContaining({ price: 1234 })]);

    // The gateway's rate limit runs its script over its own keys.
    const limiter = new RateLimiter(as('gateway'), {
      limit: 1,
      windowMs: 60_000,
      keyPrefix: names.redis.rateLimitPrefix,
    });
    expect((await limiter.consume('user:9')).allowed).toBe(true);
    expect((await limiter.consume('user:9')).allowed).toBe(false);
  });
});
