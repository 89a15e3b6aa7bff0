import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLError } from 'graphql';
import { CALLER_TOKEN_HEADER, InternalTokens } from '@brokerage/auth';
import { SubgraphClient } from '../src/subgraph-client';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
const TIMEOUT_MS = 300;

type Handler = (
  body: { query: string; variables: Record<string, unknown> },
  req: IncomingMessage,
) => {
  status?: number;
  json?: unknown;
  text?: string;
  delayMs?: number;
};

/** A real HTTP server on loopback that answers as the handler says. */
async function callee(handler: Handler): Promise<{ url: string; server: Server }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const answer = handler(
        JSON.parse(Buffer.concat(chunks).toString('utf8')) as Parameters<Handler>[0],
        req,
      );
      setTimeout(() => {
        res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' });
        res.end(answer.text ?? JSON.stringify(answer.json));
      }, answer.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, server };
}

describe('a service-to-service call to another subgraph', () => {
  const servers: Server[] = [];
  const tokens = new InternalTokens(SECRET, 'orders');
  const clientOf = async (handler: Handler) => {
    const { url, server } = await callee(handler);
    servers.push(server);
    return new SubgraphClient('users', url, TIMEOUT_MS, tokens);
  };
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('the call succeeded');
      },
      (error: GraphQLError) => error,
    );

  afterAll(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("sends the query, its variables and the service's own credential, and returns the data", async () => {
    const seen: Array<{ caller: unknown; variables: unknown }> = [];
    const client = await clientOf(({ variables }, req) => {
      seen.push({ caller: req.headers[CALLER_TOKEN_HEADER], variables });
      return { json: { data: { user: { id: variables.id } } } };
    });
    // Twice: the second call goes over the kept-alive connection.
    for (const id of ['44891482026867833', '7']) {
      expect(await client.request('query ($id: ID!) { user(id: $id) { id } }', { id })).toEqual({
        user: { id },
      });
    }
    expect(await tokens.verify(String(seen[0]!.caller))).toMatchObject({
      kind: 'service',
      service: 'orders',
    });
    expect(seen.map(({ variables }) => variables)).toEqual([{ id: '44891482026867833' }, { id: '7' }]);
  });

  it("passes the callee's domain error on with its code", async () => {
    const client = await clientOf(() => ({
      json: {
        data: null,
        errors: [{ message: 'No user with id 9', extensions: { code: 'USER_NOT_FOUND' } }],
      },
    }));
    const error = await failure(client.request('{ user { id } }', {}));
    expect(error).toBeInstanceOf(GraphQLError);
    expect(error.extensions.code).toBe('USER_NOT_FOUND');
    expect(error.message).toBe('No user with id 9');
  });

  it.each<[string, Handler]>([
    [
      'fails internally',
      () => ({ json: { errors: [{ message: 'boom', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] } }),
    ],
    [
      'rejects the query as invalid',
      () => ({
        status: 400,
        json: { errors: [{ message: 'no', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] },
      }),
    ],
    ['answers an HTTP error without GraphQL errors', () => ({ status: 502, json: {} })],
    ['answers something that is not JSON', () => ({ text: '<html>bad gateway</html>' })],
    ['answers with neither data nor errors', () => ({ json: {} })],
  ])('reports DEPENDENCY_UNAVAILABLE when the callee %s', async (_case, handler) => {
    const client = await clientOf(handler);
    const error = await failure(client.request('{ user { id } }', {}));
    expect(error.extensions.code).toBe('DEPENDENCY_UNAVAILABLE');
  });

  it('gives up at the timeout on a callee that does not answer, and keeps working after', async () => {
    let slow = true;
    const client = await clientOf(() =>
      slow ? { delayMs: 5_000, json: {} } : { json: { data: { ok: true } } },
    );
    const started = performance.now();
    const error = await failure(client.request('{ ok }', {}));
    expect(error.extensions.code).toBe('DEPENDENCY_UNAVAILABLE');
    expect(performance.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS + 2_000);
    slow = false;
    expect(await client.request('{ ok }', {})).toEqual({ ok: true });
  });

  it('reports DEPENDENCY_UNAVAILABLE when nothing listens', async () => {
    const { url, server } = await callee(() => ({ json: {} }));
    await new Promise((resolve) => server.close(resolve));
    const client = new SubgraphClient('users', url, TIMEOUT_MS, tokens);
    const error = await failure(client.request('{ user { id } }', {}));
    expect(error.extensions.code).toBe('DEPENDENCY_UNAVAILABLE');
  });
});
