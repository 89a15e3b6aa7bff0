import { requireActingFor, type Caller } from '@brokerage/auth';
import type { OrderRecord } from '../db/order-record';

/** An order is its owner's (and admins') business: anyone else asking is refused, not told it exists. */
export function visibleOrder(order: OrderRecord | null, caller: Caller): OrderRecord | null {
  if (order) requireActingFor(caller, order.userId, 'see orders');
  return order;
}
