import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { ApolloServer } from '@apollo/server';
import {
  AuthenticationError,
  codedError,
  FINAL_STATUSES,
  type Caller,
  type Logger,
  type OrderStatus,
  type OrderStatusEvent,
  type OrderView,
} from '@brokerage/common';
import {
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
  type ValidationRule,
} from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { Counter, Gauge, type Registry } from 'prom-client';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Authenticator } from '../security/authentication';
import type { GatewayContext } from '../server';
import type { OrderStatusFeed } from './order-status-feed';
import { OperationDocuments } from './operation-documents';
import { createPriceChangedStreams, isPriceChanged } from './price-changed-stream';
import type { PricePointsFeed } from './price-points-feed';
import { answerFromEvent, carriesAll, ownFieldsSelected } from './order-state-from-event';
import { STATUS_PROBE, toOrderStatusQuery } from './order-status-query';

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

type Result = ExecutionResult<Record<string, unknown>>;

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
 * not execute subscriptions, so `orderStatus` is served here. The first state is the client's
 * selection run as a query through the gateway (which also checks that the caller may see the
 * order). Each status change published by the orders service then produces the next state: from
 * the event itself when the selection needs only the order's own fields, which the event carries;
 * otherwise by running the query again, so that fields of every subgraph resolve by ordinary
 * federation. Queries and mutations sent over the socket run through the gateway too.
 */
export function attachSubscriptionServer(options: SubscriptionServerOptions) {
  const { feed, logger } = options;
  let open = 0;
  new Gauge({
    name: 'graphql_subscriptions_open',
    help: 'orderStatus subscriptions open on this gateway',
    registers: [options.registry],
    collect(this: Gauge) {
      this.set(open);
    },
  });
  const delivered = new Counter({
    name: 'order_status_events_delivered_total',
    help: 'orderStatus results sent to subscribers, by source: the status event itself or a read',
    labelNames: ['source'],
    registers: [options.registry],
  });

  /** Runs a subscription's read; only the first is charged to the read budget. */
  async function run(document: DocumentNode, args: ExecutionArgs, paid: boolean): Promise<Result> {
    const context = args.contextValue as GatewayContext;
    const response = await options.apollo().executeOperation(
      {
        query: document,
        variables: args.variableValues ?? undefined,
        operationName: args.operationName ?? undefined,
      },
      { contextValue: paid ? { ...context, readPaid: true } : context },
    );
    if (response.body.kind !== 'single')
      throw new Error('incremental delivery is not supported over WebSocket');
    return response.body.singleResult as Result;
  }

  const priceChangedStream = createPriceChangedStreams({
    feed: options.priceFeed,
    timeZone: options.exchangeTimeZone,
    registry: options.registry,
  });

  function orderStatusStream(args: ExecutionArgs): AsyncIterableIterator<Result> | Result {
    let query;
    try {
      query = toOrderStatusQuery(args.document, args.operationName, args.variableValues);
    } catch (error) {
      return { errors: [error as never] };
    }
    const { document, orderId, responseKey } = query;
    // Decided once: can this selection be answered from an event, or does it need a read?
    const ownFields = ownFieldsSelected(options.schema(), document);
    const answerable = (order: OrderView | undefined): order is OrderView =>
      order !== undefined && ownFields !== undefined && carriesAll(order, ownFields);
    let done = false;
    let finishing = false;
    // What the next state comes from: the order carried by the latest answerable event, or a read
    // (which wins: it is never older than any event).
    let next: OrderView | 'read' | undefined;
    let wake: (() => void) | undefined;
    let unwatch: (() => void) | undefined;
    let lastSent: string | undefined;
    const onChange = (event: OrderStatusEvent | undefined) => {
      if (event && answerable(event.order)) {
        if (next !== 'read') next = event.order;
      } else {
        next = 'read';
      }
      wake?.();
    };
    // Watch before the first read, so that a change between the two is not missed.
    const watching = feed.watch(orderId, onChange).then((stop) => {
      if (done) stop();
      else unwatch = stop;
    });
    open += 1;
    const finish = (): IteratorResult<Result> => {
      if (!done) {
        done = true;
        open -= 1;
        unwatch?.();
        wake?.();
      }
      return { done: true, value: undefined };
    };

    const iterator: AsyncIterableIterator<Result> = {
      [Symbol.asyncIterator]: () => iterator,
      async next(): Promise<IteratorResult<Result>> {
        if (done || finishing) return finish();
        await watching;
        if (lastSent === undefined) next = 'read';
        for (;;) {
          while (next === undefined && !done) await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          if (done) return finish();
          const source = next!;
          next = undefined;
          const result =
            source === 'read'
              ? await run(document, args, lastSent !== undefined)
              : answerFromEvent(options.schema(), document, args.variableValues, source);
          if (done) return finish();
          const order = result.data?.[responseKey] as Record<string, unknown> | null | undefined;
          if (!order) {
            finishing = true;
            const errors = result.errors?.length
              ? result.errors
              : [codedError('ORDER_NOT_FOUND', `No order with id ${orderId}`)];
            return { done: false, value: { errors } };
          }
          const { [STATUS_PROBE]: status, ...selected } = order;
          const value: Result = { ...result, data: { ...result.data, [responseKey]: selected } };
          const serialized = `${String(status)} ${JSON.stringify(value)}`;
          // A repeated event (a final status is announced twice, and the outbox delivers at least
          // once) is not a change: nothing to send. A new status is, even when the client's
          // selection looks the same. No event is older than what was sent: an order has one
          // status before its final one, and the final one ends the stream.
          if (serialized === lastSent) continue;
          lastSent = serialized;
          // After a final status the stream completes.
          if (FINAL_STATUSES.has(status as OrderStatus)) finishing = true;
          delivered.inc({ source: source === 'read' ? 'read' : 'event' });
          return { done: false, value };
        }
      },
      async return(): Promise<IteratorResult<Result>> {
        return finish();
      },
      async throw(error: unknown): Promise<IteratorResult<Result>> {
        finish();
        throw error;
      },
    };
    return iterator;
  }

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
        return response.body.kind === 'single' ? (response.body.singleResult as Result) : { errors: [] };
      },
      subscribe: (args) =>
        isPriceChanged(args)
          ? priceChangedStream(args, (document, variables, paid) =>
              run(document, { ...args, document, variableValues: variables, operationName: undefined }, paid),
            )
          : orderStatusStream(args),
      // Results come from Apollo already formatted: their errors are plain objects, which graphql-ws
      // would try to format again (calling toJSON). JSON serialisation handles both kinds as they are.
      onNext: (_ctx, _id, _payload, _args, result) => result,
    },
    wsServer,
  );

  return {
    /** Subscriptions open right now. */
    get open() {
      return open;
    },
    /** Closes every socket with 1001 (going away), then the WebSocket server. */
    async dispose(): Promise<void> {
      await server.dispose();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    },
  };
}
