import { z } from 'zod';
import { AllowList } from './address-guard';

/**
 * WEBHOOK_ALLOWED_HOSTS: host names, addresses and networks (CIDR) webhooks may reach although
 * they are private or loopback, comma-separated (e.g. `127.0.0.1,::1,localhost` for `npm run dev`
 * and the tests). Empty by default: production reaches public addresses only.
 */
export const webhookAllowListSetting = z
  .string()
  .default('')
  .transform((value, ctx) => {
    try {
      return AllowList.parse(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });
