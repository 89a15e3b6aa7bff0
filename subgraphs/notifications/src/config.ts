import { env } from '@brokerage/service';
import { subgraphConfigSchema } from '@brokerage/subgraph';
import type { z } from 'zod';
import { webhookAllowListSetting } from './webhooks/settings';

export const notificationsConfigSchema = subgraphConfigSchema.extend({
  PORT: env.port(4005),
  HOST: env.host(),
  DATABASE_URL: env.postgresUrl('notifications'),
  DB_POOL_SIZE: env.positiveInt(10),
  WEBHOOK_ALLOWED_HOSTS: webhookAllowListSetting,
  /** Live endpoints one user may have. */
  MAX_WEBHOOKS_PER_USER: env.positiveInt(10),
});
export type NotificationsConfig = z.infer<typeof notificationsConfigSchema>;
