import { z } from 'zod';

/** Kafka topics of the order flow; each message is keyed by order id (per-order ordering). */
export const OrderTopics = {
  verificationRequests: 'orders.verification-requests',
  verificationOutcomes: 'orders.verification-outcomes',
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
 * The verifier's answer: APPROVED and REJECTED come from the verification API; STALLED means it
 * did not answer within the stall limit. Only APPROVED completes an order.
 */
export const verificationOutcomeSchema = z.object({
  orderId: z.string().regex(/^[1-9]\d{0,18}$/),
  outcome: z.enum(['APPROVED', 'REJECTED', 'STALLED']),
  /** When the verifier first called the API for this order, and when it decided. */
  calledAt: z.iso.datetime().optional(),
  decidedAt: z.iso.datetime(),
});
export type VerificationOutcome = z.infer<typeof verificationOutcomeSchema>;

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

/** The Redis pub/sub channel of one order's status changes. */
export function orderStatusChannel(prefix: string, orderId: string): string {
  return `${prefix}${orderId}`;
}

export function encodeJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** Parses a JSON message value with a schema; throws on anything else. */
export function decodeJson<T>(schema: z.ZodType<T>, value: Buffer | null): T {
  if (!value) throw new Error('empty message');
  return schema.parse(JSON.parse(value.toString('utf8')));
}
