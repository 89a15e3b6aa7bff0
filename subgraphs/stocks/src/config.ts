import { env, subgraphConfigSchema } from '@brokerage/common';
import { z } from 'zod';

export const stocksConfigSchema = subgraphConfigSchema.extend({
  PORT: env.port(4003),
  HOST: env.host(),
  DATABASE_URL: env.postgresUrl('stocks'),
  DB_POOL_SIZE: env.positiveInt(10),
  REDIS_URL: env.redisUrl(),
  /** Prefix of the price series keys, as the price ingestor writes them (none by default). */
  PRICES_KEY_PREFIX: z.string().default(''),
  EXCHANGE_TIME_ZONE: z.string().default('Asia/Tehran'),
});
export type StocksConfig = z.infer<typeof stocksConfigSchema>;
