import { env, subgraphConfigSchema } from '@brokerage/common';
import type { z } from 'zod';

export const usersConfigSchema = subgraphConfigSchema.extend({
  PORT: env.port(4001),
  HOST: env.host(),
  DATABASE_URL: env.postgresUrl('users'),
  DB_POOL_SIZE: env.positiveInt(10),
});
export type UsersConfig = z.infer<typeof usersConfigSchema>;
