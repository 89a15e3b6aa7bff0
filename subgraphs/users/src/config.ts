import { env, subgraphConfigSchema } from '@brokerage/common';
import type { z } from 'zod';

export const usersConfigSchema = subgraphConfigSchema.extend({
  PORT: env.port(4001),
  HOST: env.host(),
  DATABASE_URL: env.postgresUrl('users'),
  DB_POOL_SIZE: env.positiveInt(10),
  /** A new user's trading account is opened there, with its starting credit. */
  ORDERS_SUBGRAPH_URL: env.url('http://127.0.0.1:4004/graphql'),
  SERVICE_TIMEOUT_MS: env.milliseconds(5_000),
});
export type UsersConfig = z.infer<typeof usersConfigSchema>;
