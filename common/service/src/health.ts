import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from './logger';

/** A dependency check for `/ready`: resolves when the dependency answers, throws otherwise. */
export type ReadinessCheck = () => Promise<unknown>;

export interface OpsRoutesOptions {
  /** Named dependency checks; `/ready` answers 200 only when all of them pass. */
  checks?: Record<string, ReadinessCheck>;
  registry?: Registry;
  /** Per-check time limit, so a hung dependency makes `/ready` fail rather than hang. */
  checkTimeoutMs?: number;
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `/health` (the process is alive), `/ready` (its dependencies answer) and `/metrics` (Prometheus).
 * Returns a handler that answers those paths and returns false for any other.
 */
export function createOpsRoutes({ checks = {}, registry, checkTimeoutMs = 2_000 }: OpsRoutesOptions) {
  let draining = false;
  const handle = (req: IncomingMessage, res: ServerResponse): boolean => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (path === '/health') {
      sendJson(res, 200, { status: 'ok' });
      return true;
    }
    if (path === '/ready') {
      void readiness().then(({ ready, report }) => sendJson(res, ready ? 200 : 503, report));
      return true;
    }
    if (path === '/metrics' && registry) {
      void registry.metrics().then(
        (body) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(body);
        },
        () => sendJson(res, 500, { status: 'error' }),
      );
      return true;
    }
    return false;
  };
  const readiness = async () => {
    if (draining) return { ready: false, report: { status: 'draining', checks: {} } };
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await withTimeout(check(), checkTimeoutMs);
          return [name, 'ok'] as const;
        } catch (error) {
          return [name, error instanceof Error ? error.message : String(error)] as const;
        }
      }),
    );
    const ready = results.every(([, outcome]) => outcome === 'ok');
    return { ready, report: { status: ready ? 'ok' : 'unavailable', checks: Object.fromEntries(results) } };
  };
  return {
    handle,
    readiness,
    /** From now on `/ready` fails, so load balancers stop sending work while the process drains. */
    markDraining: () => {
      draining = true;
    },
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

export interface OpsServer {
  url: string;
  markDraining(): void;
  stop(): Promise<void>;
}

/** A small HTTP server with only the ops routes, for workers that serve nothing else. */
export async function startOpsServer(
  options: OpsRoutesOptions & { port: number; host: string; logger: Logger },
): Promise<OpsServer> {
  const routes = createOpsRoutes(options);
  const server = http.createServer((req, res) => {
    if (!routes.handle(req, res)) sendJson(res, 404, { error: 'not found' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host}:${port}`;
  options.logger.info({ url }, 'ops server listening');
  return {
    url,
    markDraining: routes.markDraining,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
