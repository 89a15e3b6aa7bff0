import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApolloServer, ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import type { Caller } from '@brokerage/auth';
import { createOpsRoutes, ErrorCode, type Logger, type OpsRoutesOptions, sendJson } from '@brokerage/service';
import { graphqlErrorBody, graphqlRequestHandler } from './graphql-http-request';
import type { RequestContext } from './request-context';

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

/**
 * Serves an ApolloServer on Node's own HTTP server (no framework in the hot path) next to
 * `/health`, `/ready` and `/metrics`, and drains in-flight requests on stop. A request goes to the
 * ops routes, is refused while stopping, goes to the service's own routes, or is GraphQL.
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

  let closing = false;
  const handleGraphQL = graphqlRequestHandler({
    service: options.service,
    apollo,
    path,
    authenticate: options.authenticate,
    context: options.context,
    logger,
    maxBodyBytes,
    closing: () => closing,
  });

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
