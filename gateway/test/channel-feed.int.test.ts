import { createRedis, type Redis } from '@brokerage/redis';
import { startTcpProxy, type TcpProxy } from '../../scripts/tcp-front';
import { eventually } from '../../test/support/price-series';
import { testLogger, testRedisUrl, uniqueSuffix } from '../../test/support/services';
import { ChannelFeed } from '../src/subscriptions/channel-feed';

// The feed's subscriber reaches Redis through a front the test cuts, as a network partition would;
// the publisher reaches Redis directly.

/** Waits, up to `timeoutMs`, for the feed's Redis subscriber to be connected (what `ready` checks). */
function untilReady(feed: ChannelFeed<string>, timeoutMs: number): Promise<boolean> {
  return eventually(
    () =>
      feed.ready().then(
        () => true,
        () => false,
      ),
    (ready) => ready,
    timeoutMs,
  );
}

describe('a channel feed whose Redis was unreachable when a watch began', () => {
  const prefix = `test:${uniqueSuffix()}:feed:`;
  let front: TcpProxy;
  let feed: ChannelFeed<string>;
  let publisher: Redis;

  beforeAll(async () => {
    const direct = new URL(testRedisUrl);
    front = await startTcpProxy([`${direct.hostname}:${direct.port || 6379}`]);
    publisher = createRedis({ url: testRedisUrl, keyPrefix: '', logger: testLogger('publisher') });
    feed = new ChannelFeed<string>({
      redisUrl: `redis://${front.address}`,
      logger: testLogger('feed'),
      component: 'feed',
      channelOf: (key) => `${prefix}${key}`,
      decode: (message) => message,
      unreadable: 'unreadable',
    });
    await untilReady(feed, 10_000);
  });

  afterAll(async () => {
    front.restore();
    await feed.close();
    publisher.disconnect();
    await front.close();
  });

  it('refuses the watch, then subscribes afresh for the next one, which hears every message', async () => {
    front.cut();
    try {
      await expect(feed.watch('order-1', () => undefined)).rejects.toThrow();
      expect(feed.watched).toBe(0);
    } finally {
      front.restore();
    }
    await untilReady(feed, 15_000);
    const heard: Array<string | undefined> = [];
    const stop = await feed.watch('order-1', (event) => heard.push(event));
    await publisher.publish(`${prefix}order-1`, 'APPROVED');
    expect(
      await eventually(
        async () => heard,
        (events) => events.includes('APPROVED'),
        5_000,
      ),
    ).toContain('APPROVED');
    stop();
  });
});
