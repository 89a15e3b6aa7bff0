import { z } from 'zod';

/**
 * The orders service's Kafka topics: it alone creates and writes them. Each message is keyed by
 * order id (per-order ordering). The verifier answers on its own topic (`@brokerage/verifier-contract`).
 */
export const OrderTopics = {
  verificationRequests: 'orders.verification-requests',
  statusChanges: 'orders.status-changes',
} as const;

export const orderSideSchema = z.enum(['BUY', 'SELL']);
export const orderStatusSchema = z.enum(['DENIED', 'IN_PROGRESS', 'COMPLETED', 'FAILED', 'CANCELLED']);
export type OrderSide = z.infer<typeof orderSideSchema>;
export type OrderStatus = z.infer<typeof orderStatusSchema>;

/** Final statuses: nothing follows them. */
export const FINAL_STATUSES: ReadonlySet<OrderStatus> = new Set([
  'DENIED',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
]);

/** The orders subgraph asks the verifier to verify the user behind an order. */
export const verificationRequestSchema = z.object({
  orderId: z.string().regex(/^[1-9]\d{0,18}$/),
  userId: z.string().regex(/^[1-9]\d{0,18}$/),
  side: orderSideSchema,
  requestedAt: z.iso.datetime(),
});
export type VerificationRequest = z.infer<typeof verificationRequestSchema>;

/**
 * An order's own fields exactly as the public API renders them (`Order` without the users and
 * stocks it references): a listener can answer a selection of these without reading the order.
 */
export const orderViewSchema = z.object({
  id: z.string(),
  side: orderSideSchema,
  quantity: z.number().int(),
  price: z.number().int(),
  total: z.number().int(),
  status: orderStatusSchema,
  message: z.string(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  /** Absent from events written before it existed (a selection of it is then read, not answered). */
  clientOrderId: z.string().nullable().optional(),
});
export type OrderView = z.infer<typeof orderViewSchema>;

/**
 * Every status change of an order, announced once, after everything the change moved (cash,
 * shares) has committed with it: for the live buy-result stream and any other listener.
 */
export const orderStatusEventSchema = z.object({
  orderId: z.string(),
  userId: z.string(),
  status: orderStatusSchema,
  message: z.string(),
  at: z.iso.datetime(),
  /** The order as of this change. Absent from events written before it existed. */
  order: orderViewSchema.optional(),
});
export type OrderStatusEvent = z.infer<typeof orderStatusEventSchema>;

/** Where the orders service publishes status changes by default, and gateways listen. */
export const DEFAULT_ORDER_STATUS_CHANNEL_PREFIX = 'orders:status:';

/** The Redis pub/sub channel of one order's status changes. */
export function orderStatusChannel(prefix: string, orderId: string): string {
  return `${prefix}${orderId}`;
}
