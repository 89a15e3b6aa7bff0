import type { OrderStatusEvent, OrderView } from '@brokerage/common';
import type { OrderRecord } from '../db/order-record';

/** The order's own fields as the `Order` type renders them (Money as integers, DateTime as ISO). */
export function orderView(order: OrderRecord): OrderView {
  return {
    id: order.id,
    side: order.side,
    quantity: order.quantity,
    price: order.price,
    total: order.total,
    status: order.status,
    message: order.message,
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
    clientOrderId: order.clientOrderId,
  };
}

/**
 * The announcement of an order's current status. `settled` says whether the users service has
 * already applied the change's effect on credit; see `orderStatusEventSchema`.
 */
export function orderStatusEvent(order: OrderRecord, settled: boolean): OrderStatusEvent {
  return {
    orderId: order.id,
    userId: order.userId,
    status: order.status,
    message: order.message,
    at: order.updatedAt.toISOString(),
    order: orderView(order),
    settled,
  };
}
