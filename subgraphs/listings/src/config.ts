import { env } from '@brokerage/service';
import { subgraphConfigSchema } from '@brokerage/subgraph';
import type { z } from 'zod';

export const listingsConfigSchema = subgraphConfigSchema.extend({
  PORT: env.port(4002),
  HOST: env.host(),
  DATABASE_URL: env.postgresUrl('listings'),
  DB_POOL_SIZE: env.positiveInt(10),
  /** The users subgraph, asked whether a listing's owner exists. */
  USERS_SUBGRAPH_URL: env.url('http://127.0.0.1:4001/graphql'),
  USERS_TIMEOUT_MS: env.milliseconds(3_000),
});
export type ListingsConfig = z.infer<typeof listingsConfigSchema>;
