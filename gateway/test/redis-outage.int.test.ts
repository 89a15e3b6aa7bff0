import { startTcpProxy, type TcpProxy } from '../../scripts/tcp-front';
import { asUser } from '../../test/support/auth';
import { graphql } from '../../test/support/graphql';
import { startPlatformStack, type PlatformStack } from '../../test/support/platform-stack';
import { testRedisUrl } from '../../test/support/services';

// The gateway checks its limits (mutations, read budget) in Redis on every request. Its Redis is
// reached through a front the test cuts, as a network partition would: the limits are then
// skipped at once (logged), never waited on, so requests are answered as fast as without them.

describe('the gateway while its Redis is unreachable', () => {
  let front: TcpProxy;
  let stack: PlatformStack;

  beforeAll(async () => {
    const direct = new URL(testRedisUrl);
    front = await startTcpProxy([`${direct.hostname}:${direct.port || 6379}`]);
    stack = await startPlatformStack({ gatewayEnv: { REDIS_URL: `redis://${front.address}` } });
  }, 120_000);

  afterAll(async () => {
    front.restore();
    await stack?.stop();
    await front.close();
  });

  it('answers queries and sign-ins within a second, its limits unchecked', async () => {
    const headers = await asUser('9100001');
    const query = '{ listings(pageSize: 1) { id } }';
    const mutation =
      'mutation { signIn(input: { username: "nobody-here", password: "not the password" }) { accessToken } }';
    expect((await graphql(stack.gatewayUrl, query, {}, headers)).errors).toBeUndefined();
    front.cut();
    const waits: number[] = [];
    try {
      for (let round = 0; round < 4; round += 1) {
        let started = Date.now();
        expect((await graphql(stack.gatewayUrl, query, {}, headers)).errors).toBeUndefined();
        waits.push(Date.now() - started);
        started = Date.now();
        const signIn = await graphql(stack.gatewayUrl, mutation, {}, {});
        waits.push(Date.now() - started);
        // Answered by the users service, not refused or held by the gateway's limits.
        expect(signIn.errors?.map(({ extensions }) => extensions?.code)).toEqual(['INVALID_CREDENTIALS']);
        await new Promise((resolve) => setTimeout(resolve, 400));
      }
    } finally {
      front.restore();
    }
    expect(Math.max(...waits)).toBeLessThan(1_000);
  });
});
