import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeaderMap, type ApolloServer, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import { AuthenticationError, type Caller } from './auth/caller';
import { ErrorCode, isStoreUnavailable } from './errors';
import { extractTraceContext, inSpan, SpanKind } from './tracing';
import { trace } from '@opentelemetry/api';
import { createOpsRoutes, sendJson, type OpsRoutesOptions } from './health';
import type { Logger } from './logger';
import type { ServiceMetrics } from './metrics';

/** What every GraphQL operation's context holds, in every service. */
export interface RequestContext extends BaseContext {
  requestId: string;
  logger: Logger;
  /** The incoming HTTP headers, lower-cased (for forwarding identity and tracing). */
  headers: Record<string, string>;
  /** Who is asking, established before the operation runs. */
  caller: Caller;
}

export const REQUEST_ID_HEADER = 'x-request-id';
const REQUEST_ID_PATTERN = /^[\w.:-]{1,128}$/;

export function requestIdFrom(headers: Record<string, string | string[] | undefined>): string {
  const given = headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
}

/**
 * Logs every error with the request id, counts operations and times them, and in production
 * replaces the message of unexpected errors so that no internals reach the client.
 */
export function observabilityPlugin<C extends RequestContext>(
  metrics: ServiceMetrics,
): ApolloServerPlugin<C> {
  return {
    async requestDidStart({ contextValue }) {
      const started = process.hrtime.bigint();
      return {
        async didEncounterErrors({ errors, operationName }) {
          for (const error of errors) {
            const code = error.extensions?.code;
            if (code === undefined || code === ErrorCode.INTERNAL_SERVER_ERROR) {
              contextValue.logger.error(
                { err: unwrapResolverError(error), operationName },
                'operation failed',
              );
            } else {
              contextValue.logger.debug(
                { code, message: error.message, operationName },
                'operation rejected',
              );
            }
          }
        },
        async didResolveOperation({ operationName, operation }) {
          // Named after the operation, so that traces read as the API does.
          trace
            .getActiveSpan()
            ?.updateName(`${operation?.operation ?? 'graphql'} ${operationName ?? 'anonymous'}`)
            .setAttributes({
              'graphql.operation.name': operationName ?? 'anonymous',
              'graphql.operation.type': operation?.operation ?? 'unknown',
            });
        },
        async willSendResponse({ operationName, response }) {
          const operation = operationName ?? 'anonymous';
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          const failed =
            response.body.kind === 'single' && (response.body.singleResult.errors?.length ?? 0) > 0;
          metrics.graphqlOperations.inc({ operation, outcome: failed ? 'error' : 'ok' });
          metrics.graphqlDuration.observe({ operation }, seconds);
        },
      };
    },
  };
}

const STORE_UNAVAILABLE_MESSAGE = 'A store this service needs is unavailable; try again shortly';

// Extensions that describe the inside of the platform: a subgraph's stack, which service failed.
const INTERNAL_EXTENSIONS = new Set(['stacktrace', 'exception', 'serviceName']);

/**
 * Production error formatting: unexpected errors get a generic message, and no error carries
 * internals, even one passed on from a subgraph that was not itself started in production mode.
 */
export function formatErrorFor(nodeEnv: string) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = formatted.extensions?.code;
    if ((code === undefined || code === ErrorCode.INTERNAL_SERVER_ERROR) && isStoreUnavailable(error)) {
      // A store that is down or unreachable: the client retries, rather than reporting a bug.
      return {
        message: STORE_UNAVAILABLE_MESSAGE,
        path: formatted.path,
        locations: formatted.locations,
        extensions: { code: ErrorCode.DEPENDENCY_UNAVAILABLE },
      };
    }
    if (nodeEnv !== 'production') return formatted;
    if (code === undefined || code === ErrorCode.INTERNAL_SERVER_ERROR) {
      return {
        message: 'Internal server error',
        path: formatted.path,
        locations: formatted.locations,
        extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
      };
    }
    const extensions = Object.fromEntries(
      Object.entries(formatted.extensions ?? {}).filter(([key]) => !INTERNAL_EXTENSIONS.has(key)),
    );
    return { ...formatted, extensions };
  };
}

export interface GraphQLHttpServerOptions<C extends RequestContext> {
  /** The service's name, for its traces. */
  service: string;
  /** Builds the ApolloServer; receives the HTTP server so it can add the drain plugin. */
  apollo: (drainPlugin: ApolloServerPlugin<C>) => ApolloServer<C>;
  /**
   * Who sends this request. Throwing AuthenticationError refuses it with HTTP 401 before any
   * GraphQL work is done.
   */
  authenticate: (req: IncomingMessage) => Promise<Caller>;
  /** Extra context for one request, on top of requestId, logger, headers and caller. */
  context: (base: RequestContext, req: IncomingMessage) => Promise<C>;
  port: number;
  host: string;
  path?: string;
  logger: Logger;
  ops: OpsRoutesOptions;
  maxBodyBytes?: number;
  /** Extra routes served before GraphQL; return true when the request was answered. */
  routes?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

export interface GraphQLHttpServer {
  url: string;
  httpServer: http.Server;
  markDraining(): void;
  stop(): Promise<void>;
}

class BodyTooLargeError extends Error {}

/**
 * How much of a body over the limit is read and thrown away, as a multiple of the limit. A client
 * still sending when the connection closes can get a reset instead of the answer, so a body up to
 * this size is read to its end before the 413; past it, reading stops and the connection closes
 * after the answer.
 */
const DISCARDED_BODY_FACTOR = 10;

async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes * DISCARDED_BODY_FACTOR) throw new BodyTooLargeError();
    if (size <= maxBytes) chunks.push(chunk as Buffer);
  }
  if (size > maxBytes) throw new BodyTooLargeError();
  return Buffer.concat(chunks);
}

function graphqlErrorBody(message: string, code: string) {
  return { errors: [{ message, extensions: { code } }] };
}

/**
 * Serves an ApolloServer on Node's own HTTP server (no framework in the hot path) next to
 * `/health`, `/ready` and `/metrics`, and drains in-flight requests on stop.
 */
export async function startGraphQLHttpServer<C extends RequestContext>(
  options: GraphQLHttpServerOptions<C>,
): Promise<GraphQLHttpServer> {
  const { logger, path = '/graphql', maxBodyBytes = 1_000_000 } = options;
  const ops = createOpsRoutes(options.ops);
  const httpServer = http.createServer();
  httpServer.keepAliveTimeout = 65_000;
  const apollo = options.apollo(ApolloServerPluginDrainHttpServer({ httpServer }));
  await apollo.start();

  const handleGraphQL = async (req: IncomingMessage, res: ServerResponse, search: string) => {
    const requestId = requestIdFrom(req.headers);
    res.setHeader(REQUEST_ID_HEADER, requestId);
    let caller: Caller;
    try {
      caller = await options.authenticate(req);
    } catch (error) {
      if (!(error instanceof AuthenticationError)) throw error;
      req.resume();
      res.setHeader('www-authenticate', 'Bearer');
      sendJson(res, 401, graphqlErrorBody(error.message, ErrorCode.UNAUTHENTICATED));
      return;
    }
    let body: unknown;
    if (req.method === 'POST') {
      let raw: Buffer;
      try {
        raw = await readBody(req, maxBodyBytes);
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          // The rest of the body may still be on its way: this connection cannot carry another
          // request, so the answer says so (Connection: close) and the connection closes after it.
          res.shouldKeepAlive = false;
          sendJson(
            res,
            413,
            graphqlErrorBody(`Request body is larger than ${maxBodyBytes} bytes`, 'PAYLOAD_TOO_LARGE'),
          );
          return;
        }
        throw error;
      }
      const contentType = req.headers['content-type'] ?? '';
      if (
        contentType.startsWith('application/json') ||
        contentType.startsWith('application/graphql-response+json')
      ) {
        try {
          body = raw.length === 0 ? undefined : JSON.parse(raw.toString('utf8'));
        } catch {
          sendJson(res, 400, graphqlErrorBody('Request body is not valid JSON', 'BAD_REQUEST'));
          return;
        }
      } else {
        body = raw.toString('utf8');
      }
    }
    const headers = new HeaderMap();
    const plainHeaders: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      const joined = Array.isArray(value) ? value.join(', ') : value;
      headers.set(name, joined);
      plainHeaders[name] = joined;
    }
    const result = await inSpan(
      options.service,
      `${req.method ?? 'GET'} ${path}`,
      {
        kind: SpanKind.SERVER,
        parent: extractTraceContext(req.headers),
        attributes: { 'request.id': requestId },
      },
      () =>
        apollo.executeHTTPGraphQLRequest({
          httpGraphQLRequest: { method: req.method ?? 'GET', headers, search, body },
          context: () =>
            options.context(
              { requestId, logger: logger.child({ requestId }), headers: plainHeaders, caller },
              req,
            ),
        }),
    );
    for (const [name, value] of result.headers) res.setHeader(name, value);
    res.statusCode = result.status ?? 200;
    // Answered while stopping: tell the client not to send another request on this connection.
    if (closing) res.shouldKeepAlive = false;
    if (result.body.kind === 'complete') {
      res.end(result.body.string);
      return;
    }
    for await (const chunk of result.body.asyncIterator) res.write(chunk);
    res.end();
  };

  let closing = false;
  httpServer.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (ops.handle(req, res)) return;
    if (closing) {
      // Arrived after the stop began (on a kept-alive connection, as the drain was closing it):
      // refused before anything runs, so a client that sees no answer knows nothing was done.
      req.resume();
      res.shouldKeepAlive = false;
      res.setHeader('retry-after', '1');
      sendJson(res, 503, graphqlErrorBody('The server is shutting down; retry', 'SHUTTING_DOWN'));
      return;
    }
    if (options.routes?.(req, res)) return;
    const url = req.url ?? '/';
    const queryStart = url.indexOf('?');
    const pathname = queryStart === -1 ? url : url.slice(0, queryStart);
    if (pathname === '/' && req.method === 'GET') {
      res.writeHead(302, { location: path });
      res.end();
      return;
    }
    if (pathname !== path) {
      sendJson(res, 404, { error: 'not found' });
      return;
    }
    handleGraphQL(req, res, queryStart === -1 ? '' : url.slice(queryStart)).catch((error: unknown) => {
      logger.error({ err: error }, 'request failed outside GraphQL execution');
      if (!res.headersSent)
        sendJson(res, 500, graphqlErrorBody('Internal server error', ErrorCode.INTERNAL_SERVER_ERROR));
      else res.end();
    });
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port, options.host, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const { port } = httpServer.address() as AddressInfo;
  const url = `http://${options.host}:${port}${path}`;
  logger.info({ url }, 'GraphQL server listening');

  return {
    url,
    httpServer,
    markDraining: ops.markDraining,
    // Apollo's drain plugin closes the listener, lets in-flight requests finish, then closes idle sockets.
    stop: () => {
      closing = true;
      ops.markDraining();
      return apollo.stop();
    },
  };
}
