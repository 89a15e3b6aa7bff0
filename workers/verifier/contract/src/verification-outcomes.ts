import { z } from 'zod';

/**
 * The verifier's Kafka topic: it alone creates and writes it; the orders service reads it. Each
 * message is keyed by order id, like the requests it answers (`@brokerage/orders-contract`).
 */
export const VerifierTopics = {
  verificationOutcomes: 'orders.verification-outcomes',
} as const;

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
