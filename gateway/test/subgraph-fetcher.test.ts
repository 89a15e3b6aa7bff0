import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { createSubgraphFetcher } from '../src/subgraph-fetcher';
import {
  startStandInServer,
  type ReceivedRequest,
  type StandInServer,
} from '../../test/support/stand-in-server';

describe('subgraph fetcher', () => {
  let server: StandInServer;
  let url: string;
  let received: ReceivedRequest[];

  beforeAll(async () => {
    // Answers each call after 50 ms with the body it was sent, so that calls overlap (with the
    // status a test asks for).
    server = await startStandInServer(({ body, headers }, res) => {
      const status = Number(headers['x-answer-status'] ?? 200);
      setTimeout(
        () => res.writeHead(status, { 'content-type': 'application/json', 'x-seen': ['1', '2'] }).end(body),
        50,
      );
    });
    ({ url, received } = server);
  });

  afterAll(() => server.close());
  beforeEach(() => received.splice(0));

  const fetcher = createSubgraphFetcher({ maxSockets: 8, timeoutMs: 5_000, registry: new Registry() });
  const call = (body: string, headers: Record<string, string>) =>
    fetcher
      .forSubgraph('test')(url, { headers, body })
      .then((answer) => answer.body);
  afterAll(() => fetcher.close());

  it('sends identical reads in flight at the same moment once, and answers each', async () => {
    const query = JSON.stringify({ query: 'query{listings{id}}' });
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => call(query, { 'x-caller-token': 'a', 'x-request-id': `r${i}` })),
    );
    expect(received).toHaveLength(1);
    expect(answers).toEqual(Array.from({ length: 10 }, () => query));
    // Once answered, nothing is kept: the next call goes to the subgraph.
    await call(query, { 'x-caller-token': 'a' });
    expect(received).toHaveLength(2);
  });

  it('never shares between callers, nor mutations', async () => {
    const query = JSON.stringify({ query: 'query{listings{id}}' });
    const mutation = JSON.stringify({ query: 'mutation{createListing{id}}' });
    await Promise.all([
      call(query, { 'x-caller-token': 'a' }),
      call(query, { 'x-caller-token': 'b' }),
      call(mutation, { 'x-caller-token': 'a' }),
      call(mutation, { 'x-caller-token': 'a' }),
    ]);
    expect(received).toHaveLength(4);
    expect(received.filter(({ headers }) => headers['x-caller-token'] === 'b')).toHaveLength(1);
  });

  it("hands the data source the subgraph's status, headers and body, each reader its own objects", async () => {
    const body = JSON.stringify({ query: 'query{listings{id}}' });
    const [first, second] = await Promise.all(
      ['r1', 'r2'].map((id) =>
        fetcher.forSubgraph('test')(url, {
          headers: { 'x-answer-status': '503', 'x-request-id': id },
          body,
        }),
      ),
    );
    // One HTTP call, shared: both readers get the same answer.
    expect(received).toHaveLength(1);
    expect(first).toMatchObject({ ok: false, status: 503, body });
    expect(first!.header('content-type')).toBe('application/json');
    expect(first!.header('x-seen')).toBe('1, 2');
    // The gateway merges into the objects it is given, so a shared answer is parsed per reader.
    const parsed = first!.json();
    expect(parsed).toEqual(JSON.parse(body));
    expect(second!.json()).not.toBe(parsed);
  });
});

describe('subgraph fetcher, entity fetches', () => {
  let server: Server;
  let url: string;
  const received: string[] = [];

  beforeAll(async () => {
    // A subgraph that answers every `_entities` field (aliased or not) with its representations'
    // ids, and an error on the entity whose id is "bad".
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push(body);
        const { query, variables } = JSON.parse(body) as {
          query: string;
          variables: Record<string, Array<{ id: string }>>;
        };
        const data: Record<string, unknown> = {};
        const errors: unknown[] = [];
        for (const [, alias, variable] of query.matchAll(
          /(?:(\w+):)?_entities\(representations:\$(\w+)\)/g,
        )) {
          const field = alias ?? '_entities';
          data[field] = variables[variable!]!.map(({ id }, i) => {
            if (id !== 'bad') return { id };
            errors.push({ message: 'bad entity', path: [field, i], extensions: { code: 'BAD' } });
            return null;
          });
        }
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ data, ...(errors.length ? { errors } : {}) }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => received.splice(0));

  const entities = (selection: string, ids: string[]) =>
    JSON.stringify({
      query: `query Portfolio__stocks__2($representations:[_Any!]!){_entities(representations:$representations)${selection}}`,
      variables: { representations: ids.map((id) => ({ __typename: 'Stock', id })) },
      operationName: 'Portfolio__stocks__2',
    });
  const fetchers = [true, false].map((batchEntities) =>
    createSubgraphFetcher({ maxSockets: 8, timeoutMs: 5_000, registry: new Registry(), batchEntities }),
  );
  afterAll(() => Promise.all(fetchers.map((fetcher) => fetcher.close())));
  const call = (body: string, headers: Record<string, string>, batching = true) =>
    fetchers[batching ? 0 : 1]!.forSubgraph('stocks')(url, { headers, body }).then((answer) => answer.json());

  it('sends entity fetches of one operation that start together as one call, each answered its own part', async () => {
    const headers = { 'x-caller-token': 'a', 'x-request-id': 'r1' };
    const answers = await Promise.all([
      call(entities('{...on Stock{symbol lastPrice}}', ['1', '2']), headers),
      call(entities('{...on Stock{symbol}}', ['3']), headers),
    ]);
    expect(received).toHaveLength(1);
    expect(JSON.parse(received[0]!)).toMatchObject({
      query:
        'query Portfolio__stocks__2__batch($r0:[_Any!]!,$r1:[_Any!]!){_0:_entities(representations:$r0){...on Stock{symbol lastPrice}} _1:_entities(representations:$r1){...on Stock{symbol}}}',
    });
    expect(answers).toEqual([
      { data: { _entities: [{ id: '1' }, { id: '2' }] } },
      { data: { _entities: [{ id: '3' }] } },
    ]);
  });

  it('gives each call of a batch only its own errors, at the path it asked for', async () => {
    const headers = { 'x-caller-token': 'a', 'x-request-id': 'r2' };
    const [first, second] = await Promise.all([
      call(entities('{...on Stock{symbol}}', ['1']), headers),
      call(entities('{...on Stock{symbol}}', ['2', 'bad']), headers),
    ]);
    expect(received).toHaveLength(1);
    expect(first).toEqual({ data: { _entities: [{ id: '1' }] } });
    expect(second).toEqual({
      data: { _entities: [{ id: '2' }, null] },
      errors: [{ message: 'bad entity', path: ['_entities', 1], extensions: { code: 'BAD' } }],
    });
  });

  it('never batches calls of different callers or operations, nor when turned off', async () => {
    const body = entities('{...on Stock{symbol}}', ['1']);
    await Promise.all([
      call(body.replace('"1"', '"2"'), { 'x-caller-token': 'a', 'x-request-id': 'r3' }),
      call(body, { 'x-caller-token': 'b', 'x-request-id': 'r3' }),
      call(body, { 'x-caller-token': 'a', 'x-request-id': 'r4' }),
    ]);
    expect(received).toHaveLength(3);
    received.splice(0);
    const headers = { 'x-caller-token': 'a', 'x-request-id': 'r5' };
    const answers = await Promise.all([
      call(body, headers, false),
      call(body.replace('"1"', '"2"'), headers, false),
    ]);
    expect(received).toHaveLength(2);
    expect(answers).toEqual([{ data: { _entities: [{ id: '1' }] } }, { data: { _entities: [{ id: '2' }] } }]);
    // Unbatched, the query goes as the planner wrote it.
    expect(received.map((sent) => (JSON.parse(sent) as { query: string }).query)).toEqual([
      (JSON.parse(body) as { query: string }).query,
      (JSON.parse(body) as { query: string }).query,
    ]);
  });
});
