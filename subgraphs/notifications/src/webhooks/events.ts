import type { OrderStatus, OrderStatusEvent } from '@brokerage/orders-contract';

/** The events an endpoint subscribes to, as the API names them: one per order status. */
export const WEBHOOK_EVENTS = [
  'ORDER_IN_PROGRESS',
  'ORDER_COMPLETED',
  'ORDER_FAILED',
  'ORDER_CANCELLED',
  'ORDER_DENIED',
] as const;
export type WebhookEventName = (typeof WEBHOOK_EVENTS)[number];

export function eventOfStatus(status: OrderStatus): WebhookEventName {
  return `ORDER_${status}`;
}

/** The `type` of a delivered body: `order.completed`, `order.in_progress`, ... */
export function eventType(event: WebhookEventName): string {
  return `order.${event.slice('ORDER_'.length).toLowerCase()}`;
}

/**
 * One order status change as a webhook receives it. `id` is the same however often the change is
 * announced or delivered (an order enters each status at most once), so a receiver drops repeats by it.
 */
export interface WebhookBody {
  id: string;
  type: string;
  createdAt: string;
  data: {
    orderId: string;
    userId: string;
    status: OrderStatus;
    message: string;
    /** The order as of this change, as the API renders it (absent for events announced before it existed). */
    order?: OrderStatusEvent['order'];
  };
}

export function webhookBody(event: OrderStatusEvent): WebhookBody {
  const name = eventOfStatus(event.status);
  return {
    id: `evt_order_${event.orderId}_${event.status.toLowerCase()}`,
    type: eventType(name),
    createdAt: event.at,
    data: {
      orderId: event.orderId,
      userId: event.userId,
      status: event.status,
      message: event.message,
      ...(event.order ? { order: event.order } : {}),
    },
  };
}
