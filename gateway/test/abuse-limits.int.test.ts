import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { asAdmin } from '../../test/support/auth';
import { errorCodes, graphql, type GraphQLResponse } from '../../test/support/graphql';
import { startPlatformStack, type PlatformStack } from '../../test/support/platform-stack';
import { testLogger } from '../../test/support/services';
import { subscribe } from '../../test/support/subscriptions';
import { gatewayConfigSchema } from '../src/config';
import { start as startGateway, type RunningGateway } from '../src/server';

/** The gateway's defaults, which these tests probe from just past each limit. */
const LIMITS = { depth: 10, aliases: 15, tokens: 1_000, cost: 5_000, bodyBytes: 100_000 };

function nested(depth: number): string {
  // users (1) > listings (2) > user (3) > listings (4) ... > id (depth).
  let selection = 'id';
  for (let level = depth - 1; level > 1; level -= 1) {
    selection = `${level % 2 === 0 ? 'listings(pageSize: 1)' : 'user'} { ${selection} }`;
  }
  return `{ users(pageSize: 1) { ${selection} } }`;
}

describe('limits that keep one request from hurting the API', () => {
  let stack: PlatformStack;
  let url: string;

  beforeAll(async () => {
    stack = await startPlatformStack();
    url = stack.gatewayUrl;
  });
  afterAll(() => stack.stop());

  async function limitHit(query: string): Promise<unknown> {
    const body = await graphql(url, query);
    expect(body.data).toBeUndefined();
    expect(body.errors?.map((error) => error.extensions?.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    return body.errors?.[0]?.extensions?.limit;
  }

  it('runs an operation at the depth limit and refuses one past it', async () => {
    expect((await graphql(url, nested(LIMITS.depth))).errors).toBeUndefined();
    expect(await limitHit(nested(LIMITS.depth + 1))).toBe('depth');
  });

  it('refuses more aliases than allowed, however they are spread over fragments', async () => {
    const aliases = (count: number) => Array.from({ length: count }, (_, i) => `a${i}: id`).join(' ');
    expect((await graphql(url, `{ users { ${aliases(LIMITS.aliases)} } }`)).errors).toBeUndefined();
    expect(
      await limitHit(`{ users { ...A } listings { user { ...A } } } fragment A on User { ${aliases(8)} }`),
    ).toBe('aliases');
  });

  it('prices lists by their page size and refuses what would cost too much', async () => {
    // 1 + 10 + 10 x 10 x 4 = 411: an ordinary page of users with a page of listings each.
    const ordinary = `{ users(pageSize: 10) { listings(pageSize: 10) { id price user { name } } } }`;
    expect((await graphql(url, ordinary)).errors).toBeUndefined();
    expect(await limitHit(ordinary.replaceAll('pageSize: 10', 'pageSize: 100'))).toBe('cost');
    // A page size sent as a variable is priced at the largest page.
    expect(
      await limitHit(
        `query ($n: Int) { users(pageSize: $n) { listings(pageSize: $n) { id price user { name } } } }`,
      ),
    ).toBe('cost');
  });

  it('stops parsing a document with too many tokens', async () => {
    const fields = Array.from({ length: LIMITS.tokens }, () => 'id').join(' ');
    expect(await errorCodes(url, `{ users { ${fields} } }`)).toEqual(['GRAPHQL_PARSE_FAILED']);
  });

  it('refuses a body over the size limit with 413', async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ users { id } }', variables: { pad: 'x'.repeat(LIMITS.bodyBytes) } }),
    });
    expect(response.status).toBe(413);
    const body = (await response.json()) as GraphQLResponse<unknown>;
    expect(body.errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('closes the connection after a 413, so the next request on a keep-alive pool succeeds', async () => {
    const { origin, pathname } = new URL(url);
    // One connection, kept alive: the request after the 413 goes where the 413 came from, unless
    // the 413 closed it.
    const pool = new Pool(origin, { connections: 1 });
    const post = (body: string) =>
      pool.request({ path: pathname, method: 'POST', headers: { 'content-type': 'application/json' }, body });
    try {
      // Read to its end and thrown away, then one too large to read at all.
      for (const padding of [LIMITS.bodyBytes * 3, LIMITS.bodyBytes * 20]) {
        const tooLarge = await post(
          JSON.stringify({ query: '{ users { id } }', variables: { pad: 'x'.repeat(padding) } }),
        );
        expect(tooLarge.statusCode).toBe(413);
        expect(tooLarge.headers.connection).toBe('close');
        const body = (await tooLarge.body.json()) as GraphQLResponse<unknown>;
        expect(body.errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');
        for (let i = 0; i < 2; i += 1) {
          const next = await post(JSON.stringify({ query: '{ users(pageSize: 1) { id } }' }));
          expect(next.statusCode).toBe(200);
          expect(((await next.body.json()) as GraphQLResponse<unknown>).errors).toBeUndefined();
        }
      }
    } finally {
      await pool.destroy();
    }
  });

  describe('under introspection, as anywhere', () => {
    it('refuses introspection nested past the depth limit', async () => {
      let selection = 'name';
      for (let level = 0; level < LIMITS.depth; level += 1) selection = `ofType { ${selection} }`;
      expect(await limitHit(`{ __type(name: "Query") { fields { type { ${selection} } } } }`)).toBe('depth');
    });

    it('refuses more aliases under __type than allowed', async () => {
      const aliases = Array.from({ length: LIMITS.aliases + 5 }, (_, i) => `n${i}: name`).join(' ');
      expect(await limitHit(`{ __type(name: "Query") { ${aliases} } }`)).toBe('aliases');
    });

    it('refuses many aliased copies of the whole schema', async () => {
      const copies = Array.from(
        { length: 40 },
        (_, i) => `s${i}: __schema { types { fields { args { name } } } }`,
      ).join(' ');
      const body = await graphql(url, `{ ${copies} }`);
      expect(body.data).toBeUndefined();
      expect(body.errors?.map((error) => error.extensions?.limit)).toEqual(['aliases', 'cost']);
      // Within the alias limit, the cost of listing every type's fields' arguments still adds up.
      const few = Array.from(
        { length: 5 },
        (_, i) => `s${i}: __schema { types { fields { args { name type { name } } } } }`,
      ).join(' ');
      expect(await limitHit(`{ ${few} }`)).toBe('cost');
    });
  });

  it('refuses batched operations', async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ query: '{ users { id } }' }, { query: '{ listings { id } }' }]),
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/batching/i);
  });

  it('refuses a GET a browser could send cross-site without a preflight (CSRF)', async () => {
    const simple = await fetch(`${url}?query=${encodeURIComponent('{ users { id } }')}`);
    expect(simple.status).toBe(400);
    const preflighted = await fetch(`${url}?query=${encodeURIComponent('{ users { id } }')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(preflighted.status).toBe(200);
  });

  it('applies the same limits to operations sent over WebSocket', async () => {
    // orderStatus (1) > user (2) > listings (3) > user (4) ... > id (11)
    let selection = 'id';
    for (let level = 10; level > 1; level -= 1) {
      selection = `${level % 2 === 0 ? 'user' : 'listings(pageSize: 1)'} { ${selection} }`;
    }
    const deep = subscribe(
      url,
      `subscription { orderStatus(orderId: "1") { ${selection} } }`,
      {},
      await asAdmin(),
    );
    await expect(deep.completed).rejects.toThrow(/at most 10/);
    await expect(deep.completed).rejects.toThrow(/GRAPHQL_VALIDATION_FAILED/);
    await deep.dispose();
    // Parsing stops at the token limit, as over HTTP; the client gets the error, not a closed socket.
    const fields = Array.from({ length: LIMITS.tokens }, () => 'id').join(' ');
    const long = subscribe(
      url,
      `subscription { orderStatus(orderId: "1") { ${fields} } }`,
      {},
      await asAdmin(),
    );
    await expect(long.completed).rejects.toThrow(/GRAPHQL_PARSE_FAILED/);
    await long.dispose();
    // A message over the body limit closes the socket (1009, message too big) unread.
    const huge = subscribe(url, `subscription ($pad: String) { orderStatus(orderId: "1") { id } }`, {
      pad: 'x'.repeat(LIMITS.bodyBytes),
    });
    await expect(huge.completed).rejects.toThrow(/1009/);
    await huge.dispose();
  });

  describe('in production', () => {
    let production: RunningGateway;
    beforeAll(async () => {
      // parse(), not loadConfig(): this test's subgraphs hold the development internal secret.
      const config = gatewayConfigSchema.parse({
        ...stack.gatewayEnv,
        NODE_ENV: 'production',
        JWT_SECRET: 'a-production-like-secret-of-at-least-32-characters',
      });
      production = await startGateway(config, testLogger('gateway-production'));
    });
    afterAll(() => production.stop());

    it('turns introspection and the explorers off', async () => {
      const body = await graphql(production.url, '{ __schema { types { name } } }');
      expect(body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      const explorer = await fetch(production.url.replace(/\/graphql$/, '/graphiql'));
      expect(explorer.status).toBe(404);
      const landing = await fetch(production.url, { headers: { accept: 'text/html' } });
      expect(await landing.text()).not.toMatch(/sandbox|graphiql/i);
    });

    it('sends no stack traces with errors', async () => {
      const body = await graphql(production.url, '{ user(id: "not-an-id") { id } }');
      expect(body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(JSON.stringify(body)).not.toMatch(/stacktrace|\.ts:\d+/);
    });

    describe('when a subgraph fails', () => {
      let failing: http.Server;
      let gateway: RunningGateway;
      let answer: (res: http.ServerResponse) => void = () => undefined;
      beforeAll(async () => {
        // The users subgraph as it could fail: it answers whatever the test says.
        failing = http.createServer((req, res) => {
          req.resume();
          req.on('end', () => answer(res));
        });
        await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
        const config = gatewayConfigSchema.parse({
          ...stack.gatewayEnv,
          NODE_ENV: 'production',
          JWT_SECRET: 'a-production-like-secret-of-at-least-32-characters',
          SUBGRAPH_USERS_URL: `http://127.0.0.1:${(failing.address() as AddressInfo).port}/graphql`,
        });
        gateway = await startGateway(config, testLogger('gateway-production-failing'));
      });
      afterAll(async () => {
        await gateway.stop();
        await new Promise((resolve) => failing.close(resolve));
      });

      const json = (res: http.ServerResponse, status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const STACK = [
        'error: relation "users" does not exist',
        '    at Parser.parseErrorMessage (/app/node_modules/pg-protocol/dist/parser.js:283:98)',
        '    at UsersRepository.page (/app/subgraphs/users/src/db/users-repository.ts:42:7)',
      ];
      const SQL = 'SELECT "id", "name" FROM "users" ORDER BY "id" LIMIT 10';
      const failures: Record<string, (res: http.ServerResponse) => void> = {
        'an unexpected error with SQL, a stack and its service': (res) =>
          json(res, 200, {
            data: { users: null },
            errors: [
              {
                message: `${STACK[0]}: ${SQL}`,
                path: ['users'],
                extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: STACK, serviceName: 'users' },
              },
            ],
          }),
        'an error without a code': (res) =>
          json(res, 200, { data: { users: null }, errors: [{ message: SQL, path: ['users'] }] }),
        'a dependency it could not reach': (res) =>
          json(res, 200, {
            data: { users: null },
            errors: [
              {
                message: 'The orders service is unavailable; try again shortly',
                path: ['users'],
                extensions: {
                  code: 'DEPENDENCY_UNAVAILABLE',
                  cause: 'Error: connect ECONNREFUSED 10.0.0.7:4004',
                  serviceName: 'users',
                },
              },
            ],
          }),
        'a client error with internals in its extensions': (res) =>
          json(res, 200, {
            data: { users: null },
            errors: [
              {
                message: 'pageSize must be between 1 and 100',
                path: ['users'],
                extensions: { code: 'BAD_USER_INPUT', field: 'pageSize', query: SQL, stacktrace: STACK },
              },
            ],
          }),
        'HTTP 500 with a stack as its body': (res) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`${STACK.join('\n')}\n${SQL}`);
        },
        'HTTP 401 with its own error': (res) =>
          json(res, 401, {
            errors: [{ message: `no caller token: ${SQL}`, extensions: { code: 'UNAUTHENTICATED' } }],
          }),
        'a dropped connection': (res) => res.socket?.destroy(),
      };

      it.each(Object.keys(failures))('tells the client nothing of the inside: %s', async (failure) => {
        answer = failures[failure]!;
        const body = await graphql(gateway.url, '{ users(pageSize: 10) { id name } }');
        expect(body.errors?.length).toBeGreaterThan(0);
        for (const error of body.errors ?? []) {
          expect(
            Object.keys(error.extensions ?? {}).filter((key) => !['code', 'field'].includes(key)),
          ).toEqual([]);
          expect(error.message).not.toMatch(
            /users|orders|subgraph|service|select|relation|ECONN|\d+\.\d+\.\d+\.\d+|:\d+/i,
          );
        }
        expect(JSON.stringify(body)).not.toMatch(
          /stacktrace|serviceName|node_modules|\.[jt]s:\d+|SELECT|127\.0\.0\.1|10\.0\.0\.7/,
        );
      });
    });

    it('still serves the public API to tokens of its own secret only', async () => {
      // A development token is not valid against a production secret.
      const response = await fetch(production.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(await asAdmin()) },
        body: JSON.stringify({ query: '{ users { id } }' }),
      });
      expect(response.status).toBe(401);
    });
  });
});
