import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { ApolloServer } from '@apollo/server';
import { AuthenticationError, type Caller } from '@brokerage/auth';
import { type Logger } from '@brokerage/service';
import type { GraphQLSchema, ValidationRule } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { Registry } from 'prom-client';
import { WebSocketServer, type WebSocket } from 'ws';
import type { GatewayContext } from '../gateway-context';
import type { Authenticator } from '../security/authentication';
import { OperationDocuments } from './operation-documents';
import type { OrderStatusFeed } from './order-status-feed';
import { createOrderStatusStreams } from './order-status-stream';
import { isPriceChanged } from './price-changed-arguments';
import { createPriceChangedStreams } from './price-changed-stream';
import type { PricePointsFeed } from './price-points-feed';
import { readThroughGateway, type SubscriptionResult } from './subscriber-read';

export interface SubscriptionServerOptions {
  httpServer: Server;
  path: string;
  apollo: () => ApolloServer<GatewayContext>;
  authenticator: Authenticator;
  /** The gateway's operation limits, applied to what arrives over the socket too. */
  validationRules: ValidationRule[];
  /** The most tokens a document may have (the HTTP path's parse limit). */
  maxTokens: number;
  /** The largest message a client may send (the HTTP body limit). */
  maxPayloadBytes: number;
  schema: () => GraphQLSchema;
  feed: OrderStatusFeed;
  /** New minute points of stocks, for priceChanged. */
  priceFeed: PricePointsFeed;
  /** The exchange's time zone: a price point's minute is exchange time. */
  exchangeTimeZone: string;
  logger: Logger;
  registry: Registry;
}

/** connectionParams play the part HTTP headers play for queries (e.g. `authorization`). */
function headersFrom(params: Readonly<Record<string, unknown>> | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(params ?? {})) {
    if (typeof value === 'string') headers[name.toLowerCase()] = value;
  }
  return headers;
}

/**
 * GraphQL over WebSocket (graphql-ws) on the gateway's own port and path. @apollo/gateway does
 * not execute subscriptions, so they are served here: `orderStatus` (order-status-stream.ts) and
 * `priceChanged` (price-changed-stream.ts). Queries and mutations sent over the socket run through
 * the gateway, as over HTTP.
 */
export function attachSubscriptionServer(options: SubscriptionServerOptions) {
  const { logger } = options;
  const orderStatusStream = createOrderStatusStreams({
    feed: options.feed,
    schema: options.schema,
    registry: options.registry,
  });
  const priceChangedStream = createPriceChangedStreams({
    feed: options.priceFeed,
    timeZone: options.exchangeTimeZone,
    registry: options.registry,
  });

  const wsServer = new WebSocketServer({
    server: options.httpServer,
    path: options.path,
    maxPayload: options.maxPayloadBytes,
  });
  const documents = new OperationDocuments({ maxTokens: options.maxTokens, rules: options.validationRules });
  // A socket's caller is established once, when it connects, and holds for all its operations.
  const callers = new WeakMap<WebSocket, Caller>();
  const server = useServer<Record<string, unknown>>(
    {
      schema: () => options.schema(),
      // Parsed and validated here, once per distinct operation, instead of by graphql-ws per
      // subscription; a refused operation is answered with its errors and the socket stays open.
      onSubscribe: (_ctx, _id, payload) => {
        const schema = options.schema();
        const document = documents.prepare(schema, payload.query);
        if (!('kind' in document)) return [...document];
        return { schema, document, operationName: payload.operationName, variableValues: payload.variables };
      },
      onConnect: async (ctx) => {
        try {
          callers.set(
            ctx.extra.socket,
            await options.authenticator.fromConnectionParams(ctx.connectionParams),
          );
          return true;
        } catch (error) {
          if (error instanceof AuthenticationError) return false; // closes with 4403 Forbidden
          throw error;
        }
      },
      context: (ctx): GatewayContext => {
        const requestId = randomUUID();
        return {
          requestId,
          logger: logger.child({ requestId }),
          headers: headersFrom(ctx.connectionParams),
          caller: callers.get(ctx.extra.socket)!,
          clientAddress: options.authenticator.clientAddress(ctx.extra.request),
        };
      },
      execute: async (args) => {
        const response = await options.apollo().executeOperation(
          {
            query: args.document,
            variables: args.variableValues ?? undefined,
            operationName: args.operationName ?? undefined,
          },
          { contextValue: args.contextValue as GatewayContext },
        );
        return response.body.kind === 'single'
          ? (response.body.singleResult as SubscriptionResult)
          : { errors: [] };
      },
      subscribe: (args) =>
        isPriceChanged(args)
          ? priceChangedStream(args, (document, variables, paid) =>
              readThroughGateway(
                options.apollo(),
                document,
                { ...args, document, variableValues: variables, operationName: undefined },
                paid,
              ),
            )
          : orderStatusStream(args, (document, readArgs, paid) =>
              readThroughGateway(options.apollo(), document, readArgs, paid),
            ),
      // Results come from Apollo already formatted: their errors are plain objects, which graphql-ws
      // would try to format again (calling toJSON). JSON serialisation handles both kinds as they are.
      onNext: (_ctx, _id, _payload, _args, result) => result,
    },
    wsServer,
  );

  return {
    /** Closes every socket with 1001 (going away), then the WebSocket server. */
    async dispose(): Promise<void> {
      await server.dispose();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    },
  };
}
