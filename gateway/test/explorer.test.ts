import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createExplorerRoutes } from '../src/explorer';

describe('explorer routes', () => {
  let server: Server;
  let origin: string;

  beforeAll(async () => {
    const routes = createExplorerRoutes('/explorer', '/graphql');
    server = createServer((req, res) => {
      if (!routes(req, res)) {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('serves its own assets', async () => {
    const response = await fetch(`${origin}/explorer/assets/graphiql.css`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/css');
  });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'leaves assets/%s, a name the asset table inherits, to the next route',
    async (name) => {
      const response = await fetch(`${origin}/explorer/assets/${name}`);
      expect(response.status).toBe(404);
    },
  );
});
