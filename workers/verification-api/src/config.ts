import { baseConfigSchema, env } from '@brokerage/service';
import { z } from 'zod';

export const verificationApiConfigSchema = baseConfigSchema
  .extend({
    PORT: env.port(4200),
    HOST: env.host(),
    /** Each answer comes after a delay drawn uniformly from [MIN_DELAY_MS, MAX_DELAY_MS]. */
    MIN_DELAY_MS: env.milliseconds(1_000),
    MAX_DELAY_MS: env.milliseconds(100_000),
    /** The share of requests answered `verified: true`. */
    APPROVAL_RATE: z.coerce.number().min(0).max(1).default(0.9),
  })
  .refine((config) => config.MIN_DELAY_MS <= config.MAX_DELAY_MS, {
    path: ['MAX_DELAY_MS'],
    message: 'must be at least MIN_DELAY_MS',
  });
export type VerificationApiConfig = z.infer<typeof verificationApiConfigSchema>;
