import { Repeater } from '@repeaterjs/repeater';
import { codedError } from '@brokerage/service';
import {
  FINAL_STATUSES,
  type OrderStatus,
  type OrderStatusEvent,
  type OrderView,
} from '@brokerage/orders-contract';
import type { DocumentNode, ExecutionArgs, GraphQLSchema } from 'graphql';
import { Counter, Gauge, type Registry } from 'prom-client';
import { answerFromEvent, carriesAll, ownFieldsSelected } from './order-state-from-event';
import type { OrderStatusFeed } from './order-status-feed';
import { STATUS_PROBE, toOrderStatusQuery } from './order-status-query';
import type { SubscriptionResult } from './subscriber-read';

/** Runs a read of the order as the subscriber; `paid` once the first state was charged. */
export type OrderRead = (
  document: DocumentNode,
  args: ExecutionArgs,
  paid: boolean,
) => Promise<SubscriptionResult>;

export interface OrderStatusStreamsOptions {
  feed: OrderStatusFeed;
  schema: () => GraphQLSchema;
  registry: Registry;
}

/**
 * `orderStatus(orderId)`: the first state is the client's selection run as a query through the
 * gateway (which also checks that the caller may see the order). Each status change published by
 * the orders service then produces the next state: from the event itself when the selection needs
 * only the order's own fields, which the event carries; otherwise by running the query again, so
 * that fields of every subgraph resolve by ordinary federation. The stream completes after a final
 * status, or after telling that there is no such order.
 */
export function createOrderStatusStreams({ feed, schema, registry }: OrderStatusStreamsOptions) {
  let open = 0;
  new Gauge({
    name: 'graphql_subscriptions_open',
    help: 'orderStatus subscriptions open on this gateway',
    registers: [registry],
    collect(this: Gauge) {
      this.set(open);
    },
  });
  const delivered = new Counter({
    name: 'order_status_events_delivered_total',
    help: 'orderStatus results sent to subscribers, by source: the status event itself or a read',
    labelNames: ['source'],
    registers: [registry],
  });

  return function orderStatusStream(
    args: ExecutionArgs,
    read: OrderRead,
  ): Repeater<SubscriptionResult> | SubscriptionResult {
    let query;
    try {
      query = toOrderStatusQuery(args.document, args.operationName, args.variableValues);
    } catch (error) {
      return { errors: [error as never] };
    }
    const { document, orderId, responseKey } = query;
    // Decided once: can this selection be answered from an event, or does it need a read?
    const ownFields = ownFieldsSelected(schema(), document);
    const answerable = (order: OrderView | undefined): order is OrderView =>
      order !== undefined && ownFields !== undefined && carriesAll(order, ownFields);

    // A Repeater, not an async generator: graphql-ws ends a subscription with `return()`, which
    // must finish at once even while the stream waits for the next change (an async generator's
    // `return()` would wait for that change, keeping the Redis subscription until it comes).
    return new Repeater<SubscriptionResult>(async (push, stop) => {
      let stopped = false;
      // What the next state comes from: the order carried by the latest answerable event, or a read
      // (which wins: it is never older than any event). The first state is always a read.
      let next: OrderView | 'read' | undefined = 'read';
      let wake = () => {};
      const onChange = (event: OrderStatusEvent | undefined) => {
        if (event && answerable(event.order)) {
          if (next !== 'read') next = event.order;
        } else {
          next = 'read';
        }
        wake();
      };
      open += 1;
      void stop.then(() => {
        stopped = true;
        open -= 1;
        wake();
      });
      // Watch before the first read, so that a change between the two is not missed.
      const unwatch = await feed.watch(orderId, onChange);
      void stop.then(unwatch);

      let lastSent: string | undefined;
      while (!stopped) {
        if (next === undefined) {
          await new Promise<void>((resolve) => (wake = resolve));
          continue;
        }
        const source = next;
        next = undefined;
        const result =
          source === 'read'
            ? await read(document, args, lastSent !== undefined)
            : answerFromEvent(schema(), document, args.variableValues, source);
        if (stopped) break;
        const order = result.data?.[responseKey] as Record<string, unknown> | null | undefined;
        if (!order) {
          const errors = result.errors?.length
            ? result.errors
            : [codedError('ORDER_NOT_FOUND', `No order with id ${orderId}`)];
          await push({ errors });
          break;
        }
        const { [STATUS_PROBE]: status, ...selected } = order;
        const value: SubscriptionResult = { ...result, data: { ...result.data, [responseKey]: selected } };
        const serialized = `${String(status)} ${JSON.stringify(value)}`;
        // A repeated event (a final status is announced twice, and the outbox delivers at least
        // once) is not a change: nothing to send. A new status is, even when the client's
        // selection looks the same. No event is older than what was sent: an order has one
        // status before its final one, and the final one ends the stream.
        if (serialized === lastSent) continue;
        lastSent = serialized;
        delivered.inc({ source: source === 'read' ? 'read' : 'event' });
        await push(value);
        // After a final status the stream completes.
        if (FINAL_STATUSES.has(status as OrderStatus)) break;
      }
      stop();
    });
  };
}
