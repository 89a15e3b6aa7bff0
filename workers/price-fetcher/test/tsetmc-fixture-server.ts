import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A trade in the exchange API's own shape (see src/sources/tsetmc-source.ts). */
export function tsetmcTrade(nTran: number, hEven: number, pTran: number, canceled = 0) {
  return {
    insCode: null,
    dEven: 0,
    nTran,
    hEven,
    qTitTran: 1000,
    pTran,
    qTitNgJ: 0,
    iSensVarP: '\u0000',
    pPhSeaCotJ: 0.0,
    pPbSeaCotJ: 0.0,
    iAnuTran: 0,
    xqVarPJDrPRf: 0.0,
    canceled,
  };
}

export type FixtureAnswer =
  | { kind: 'json'; body: unknown; delayMs?: number }
  | { kind: 'status'; status: number }
  | { kind: 'raw'; body: string };

/**
 * A stand-in for the exchange's price API on loopback. Each path answers from a queue of
 * fixtures (the last one repeats), so a test can script "fail twice, then answer".
 */
export async function startTsetmcFixture(routes: Record<string, FixtureAnswer[]>) {
  const calls: string[] = [];
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    calls.push(path);
    const queue = routes[path];
    const answer = queue && (queue.length > 1 ? queue.shift()! : queue[0]!);
    if (!answer) {
      res.writeHead(404).end();
      return;
    }
    if (answer.kind === 'status') {
      res.writeHead(answer.status).end('error');
      return;
    }
    const send = () => {
      if (res.destroyed) return;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(answer.kind === 'json' ? JSON.stringify(answer.body) : answer.body);
    };
    if (answer.kind === 'json' && answer.delayMs) setTimeout(send, answer.delayMs);
    else send();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
