import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '@brokerage/service';
import { asAdmin } from '../../test/support/auth';
import { graphql } from '../../test/support/graphql';
import { startPlatformStack, type PlatformStack } from '../../test/support/platform-stack';
import { freePort } from '../../test/support/processes';
import { testLogger } from '../../test/support/services';
import { gatewayConfigSchema } from '../src/config';
import { start as startGateway } from '../src/server';

// A subgraph replica that is gone, drops the connection, hangs or is answered for by a proxy
// with no replica behind it: the client gets DEPENDENCY_UNAVAILABLE (and retries), never an
// internal error, whatever the way the subgraph failed.

describe('the gateway when a subgraph cannot answer', () => {
  let stack: PlatformStack;
  const servers: http.Server[] = [];

  beforeAll(async () => {
    stack = await startPlatformStack();
  });

  afterAll(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    await stack.stop();
  });

  async function brokenSubgraph(handler: http.RequestListener): Promise<string> {
    const server = http.createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  }

  it.each<[string, () => Promise<string>]>([
    ['refuses connections', async () => `http://127.0.0.1:${await freePort()}/graphql`],
    ['drops the connection', () => brokenSubgraph((req) => req.socket.destroy())],
    ['never answers', () => brokenSubgraph(() => undefined)],
    [
      'is a proxy with no replica (503)',
      () => brokenSubgraph((_req, res) => res.writeHead(503).end('no upstream')),
    ],
  ])('answers DEPENDENCY_UNAVAILABLE when the subgraph %s', async (_case, subgraphUrl) => {
    const gateway = await startGateway(
      loadConfig(gatewayConfigSchema, {
        ...stack.gatewayEnv,
        SUBGRAPH_STOCKS_URL: await subgraphUrl(),
        SUBGRAPH_TIMEOUT_MS: '1000',
      }),
      testLogger('gateway'),
    );
    try {
      const answer = await graphql(gateway.url, '{ stocks { id } }', {}, await asAdmin());
      expect(answer.errors?.map(({ extensions }) => extensions?.code)).toEqual(['DEPENDENCY_UNAVAILABLE']);
    } finally {
      await gateway.stop();
    }
  });
});
