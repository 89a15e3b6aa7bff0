import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request a stand-in server received: its body, read in full, and its headers. */
export interface ReceivedRequest {
  body: string;
  headers: IncomingMessage['headers'];
}

export interface StandInServer {
  /** `http://127.0.0.1:<port>/graphql` */
  url: string;
  /** Every request so far, in the order they ended. */
  received: ReceivedRequest[];
  close(): Promise<void>;
}

/**
 * A real HTTP server on loopback standing in for a service (a subgraph, say): it reads each
 * request's body, records it, and lets `answer` reply.
 */
export async function startStandInServer(
  answer: (request: ReceivedRequest, res: ServerResponse) => void,
): Promise<StandInServer> {
  const received: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const request = { body, headers: req.headers };
      received.push(request);
      answer(request, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
