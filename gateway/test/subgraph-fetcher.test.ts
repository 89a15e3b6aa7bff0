import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { createSubgraphFetcher } from '../src/subgraph-fetcher';

describe('subgraph fetcher', () => {
  let server: Server;
  let url: string;
  const received: Array<{ body: string; headers: IncomingMessage['headers'] }> = [];

  beforeAll(async () => {
    // Answers each call after 50 ms with the body it was sent, so that calls overlap.
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push({ body, headers: req.headers });
        setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(body), 50);
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
});
