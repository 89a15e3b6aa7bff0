import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { createSubgraphFetcher } from '../src/subgraph-fetcher';

describe('subgraph fetcher', () => {
  let server: Server;
  let url: string;
  const received: Array<{ body: string; headers: IncomingMessage['headers'] }> = [];

  beforeAll(async () => {
    // Answers each call after 50 ms with the body it was sent, so that calls overlap (with the
    // status a test asks for).
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push({ body, headers: req.headers });
        const status = Number(req.headers['x-answer-status'] ?? 200);
        setTimeout(
          () => res.writeHead(status, { 'content-type': 'application/json', 'x-seen': ['1', '2'] }).end(body),
          50,
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => received.splice(0));

  const fetcher = createSubgraphFetcher({ maxSockets: 8, timeoutMs: 5_000, registry: new Registry() });
  const call = (body: string, headers: Record<string, string>) =>
    fetcher
      .forSubgraph('test')(url, { method: 'POST', headers, body })
      .then((response) => response.text());
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

  it("hands the data source the subgraph's status, headers and body, read once", async () => {
    const body = JSON.stringify({ query: 'query{listings{id}}' });
    const response = await fetcher
      .forSubgraph('test')(url, { method: 'POST', headers: { 'x-answer-status': '503' }, body })
      .then((answer) => answer.clone());
    expect(response).toMatchObject({ ok: false, status: 503, statusText: 'Service Unavailable' });
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('x-seen')).toBe('1, 2');
    expect(await response.json()).toEqual(JSON.parse(body));
    // As with fetch, a body is read once: a data source reading it twice would be a bug to surface.
    expect(response.bodyUsed).toBe(true);
    await expect(response.text()).rejects.toThrow(TypeError);
  });
});
