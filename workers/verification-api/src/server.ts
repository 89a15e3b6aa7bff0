import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, createOpsRoutes, sendJson, type Logger } from '@brokerage/service';
import type { VerificationApiConfig } from './config';

export interface VerificationRequestBody {
  orderId: string;
  userId: string;
}

/** How the stand-in answers one request: after how long, and whether the user is verified. */
export type Decide = (request: VerificationRequestBody) => { delayMs: number; verified: boolean };

export function randomDecisions(
  config: Pick<VerificationApiConfig, 'MIN_DELAY_MS' | 'MAX_DELAY_MS' | 'APPROVAL_RATE'>,
): Decide {
  return () => ({
    delayMs: config.MIN_DELAY_MS + Math.random() * (config.MAX_DELAY_MS - config.MIN_DELAY_MS),
    verified: Math.random() < config.APPROVAL_RATE,
  });
}

export interface RunningVerificationApi {
  url: string;
  /** Requests received, in order (for tests and the log). */
  received: VerificationRequestBody[];
  stop(): Promise<void>;
}

/**
 * The external verification API's stand-in: `POST /verify {orderId, userId}` answers
 * `{"verified": true|false}` after a delay, like the real service, which takes 1 to 100 s.
 */
export async function start(
  options: { port: number; host: string; decide: Decide },
  logger: Logger = createLogger({ service: 'verification-api' }),
): Promise<RunningVerificationApi> {
  const ops = createOpsRoutes({});
  const received: VerificationRequestBody[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    if (ops.handle(req, res)) return;
    if (req.method !== 'POST' || req.url !== '/verify') {
      sendJson(res, 404, { error: 'not found' });
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: VerificationRequestBody;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as VerificationRequestBody;
        if (typeof body.orderId !== 'string' || typeof body.userId !== 'string') throw new Error('fields');
      } catch {
        sendJson(res, 400, { error: 'expected {"orderId": string, "userId": string}' });
        return;
      }
      received.push(body);
      const { delayMs, verified } = options.decide(body);
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!res.destroyed) sendJson(res, 200, { verified });
      }, delayMs);
      timers.add(timer);
      // A caller that gives up (the verifier's stall limit) frees the pending answer.
      res.on('close', () => {
        clearTimeout(timer);
        timers.delete(timer);
      });
    });
  });
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 121_000;
  server.requestTimeout = 0;
  await new Promise<void>((resolve) => server.listen(options.port, options.host, resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host}:${port}`;
  logger.info({ url }, 'verification API stand-in listening');
  return {
    url,
    received,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
