import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { CALLER_TOKEN_HEADER, InternalTokens } from '@brokerage/auth';
import { REQUEST_ID_HEADER, type RequestContext } from '@brokerage/graphql';
import { GraphQLError } from 'graphql';
import { Registry } from 'prom-client';
import { SubgraphDataSource } from '../src/subgraph-data-source';
import { createSubgraphFetcher } from '../src/subgraph-fetcher';
import {
  startStandInServer,
  type ReceivedRequest,
  type StandInServer,
} from '../../test/support/stand-in-server';

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

describe('subgraph data source', () => {
  let server: StandInServer;
  let url: string;
  let received: ReceivedRequest[];
  // What the stand-in subgraph answers next.
  let answer: Answer;

  beforeAll(async () => {
    server = await startStandInServer((_request, res) =>
      res
        .writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers })
        .end(answer.body),
    );
    ({ url, received } = server);
  });
  afterAll(() => server.close());
  beforeEach(() => received.splice(0));

  const tokens = new InternalTokens('a secret of the test, long enough to sign with', 'gateway');
  const fetcher = createSubgraphFetcher({ maxSockets: 4, timeoutMs: 5_000, registry: new Registry() });
  afterAll(() => fetcher.close());
  const source = (at = url) =>
    new SubgraphDataSource({ url: at, fetch: fetcher.forSubgraph('users'), tokens });

  const restricted: unknown[] = [];
  const options = (query: string, variables?: Record<string, unknown>) =>
    ({
      kind: 'incoming operation',
      request: { query, variables, operationName: 'Portfolio__users__0' },
      context: { requestId: 'req-1', caller: { kind: 'user', userId: '7', admin: false } },
      incomingRequestContext: { overallCachePolicy: { restrict: (hint: unknown) => restricted.push(hint) } },
    }) as unknown as GraphQLDataSourceProcessOptions<RequestContext>;

  it("sends the operation as JSON with the caller's signed token and the request id, and returns the answer", async () => {
    answer = { status: 200, body: JSON.stringify({ data: { user: { id: '7', name: 'Ada' } } }) };
    const result = await source().process(
      options('query Portfolio__users__0($id:ID!){user(id:$id){id name}}', { id: '7' }),
    );
    expect(result).toEqual({ data: { user: { id: '7', name: 'Ada' } } });
    expect(received).toHaveLength(1);
    const [{ body, headers }] = received as [(typeof received)[0]];
    // The query first: the subgraph fetcher recognises reads and entity fetches by how the body starts.
    expect(body).toBe(
      '{"query":"query Portfolio__users__0($id:ID!){user(id:$id){id name}}","variables":{"id":"7"},"operationName":"Portfolio__users__0"}',
    );
    expect(headers['content-type']).toBe('application/json');
    expect(headers[REQUEST_ID_HEADER]).toBe('req-1');
    await expect(tokens.verify(headers[CALLER_TOKEN_HEADER] as string)).resolves.toEqual({
      kind: 'user',
      userId: '7',
      admin: false,
    });
  });

  it('narrows the response cache policy by the subgraph answer Cache-Control', async () => {
    restricted.splice(0);
    answer = { status: 200, headers: { 'cache-control': 'private, max-age=60' }, body: '{"data":{"a":1}}' };
    await source().process(options('{a}'));
    answer = { status: 200, body: '{"data":{"a":1}}' };
    await source().process(options('{a}'));
    expect(restricted).toEqual([{ maxAge: 60, scope: 'PRIVATE' }, { maxAge: 0 }]);
  });

  it("passes a subgraph's HTTP 400 for bad input on as its own coded error", async () => {
    answer = {
      status: 400,
      body: JSON.stringify({
        errors: [{ message: 'Money must be an integer', extensions: { code: 'BAD_USER_INPUT' } }],
      }),
    };
    const error = await source()
      .process(options('{a}'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphQLError);
    expect(error).toMatchObject({
      message: 'Money must be an integer',
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });

  it('reports any other HTTP error with its status and body, as Apollo does', async () => {
    answer = { status: 500, body: '{"errors":[{"message":"boom"}]}' };
    const error = await source()
      .process(options('{a}'))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      message: '500: Internal Server Error',
      extensions: { response: { url, status: 500, body: { errors: [{ message: 'boom' }] } } },
    });
    answer = { status: 401, body: 'who are you' };
    await expect(source().process(options('{a}'))).rejects.toMatchObject({
      message: '401: Unauthorized',
      extensions: { code: 'UNAUTHENTICATED' },
    });
  });

  it('answers DEPENDENCY_UNAVAILABLE for a subgraph that is down, unreachable or not speaking JSON', async () => {
    answer = { status: 503, body: 'no replica' };
    await expect(source().process(options('{a}'))).rejects.toMatchObject({
      extensions: { code: 'DEPENDENCY_UNAVAILABLE' },
    });
    // A port nothing listens on: the connection is refused.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(source(`http://127.0.0.1:${port}/graphql`).process(options('{a}'))).rejects.toMatchObject({
      extensions: { code: 'DEPENDENCY_UNAVAILABLE' },
    });
    answer = { status: 200, body: '{"data":' };
    await expect(source().process(options('{a}'))).rejects.toMatchObject({
      extensions: { code: 'DEPENDENCY_UNAVAILABLE' },
    });
  });
});
