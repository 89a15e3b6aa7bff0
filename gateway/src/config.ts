import path from 'node:path';
import { baseConfigSchema, env } from '@brokerage/common';
import { z } from 'zod';

export const gatewayConfigSchema = baseConfigSchema
  .extend({
    PORT: env.port(4000),
    HOST: env.host(),
    /** The composed supergraph (`npm run compose`); the gateway refuses to start without it. */
    SUPERGRAPH_PATH: z.string().default(path.resolve(__dirname, '../../schema/supergraph.graphql')),
    /** Approximate memory for cached query plans. */
    QUERY_PLAN_CACHE_MIB: env.positiveInt(30),
    SUBGRAPH_TIMEOUT_MS: env.milliseconds(10_000),
    /** Keep-alive connections per subgraph origin. */
    SUBGRAPH_MAX_SOCKETS: env.positiveInt(64),
    MAX_BODY_BYTES: env.positiveInt(1_000_000),
    /** Where the orders service publishes status changes, for the orderStatus subscription. */
    REDIS_URL: env.redisUrl(),
    ORDER_STATUS_CHANNEL_PREFIX: z.string().default('orders:status:'),
    /** Apollo Sandbox and the offline explorer; off in production unless asked for. */
    EXPLORER_ENABLED: z.enum(['true', 'false']).optional(),
    INTROSPECTION_ENABLED: z.enum(['true', 'false']).optional(),
  })
  // Kept loose so that SUBGRAPH_<NAME>_URL variables, whose names depend on the supergraph, reach the transform.
  .loose()
  .transform((config, ctx) => {
    const production = config.NODE_ENV === 'production';
    const overrides: Record<string, string> = {};
    // SUBGRAPH_<NAME>_URL points the gateway at a subgraph somewhere else than the supergraph says.
    for (const [key, value] of Object.entries(config)) {
      const match = /^SUBGRAPH_([A-Z0-9_]+)_URL$/.exec(key);
      if (!match || typeof value !== 'string') continue;
      if (!z.url().safeParse(value).success) {
        ctx.addIssue({ code: 'custom', path: [key], message: 'must be a URL' });
        continue;
      }
      overrides[match[1]!.toLowerCase()] = value;
    }
    return {
      NODE_ENV: config.NODE_ENV,
      LOG_LEVEL: config.LOG_LEVEL,
      SHUTDOWN_TIMEOUT_MS: config.SHUTDOWN_TIMEOUT_MS,
      PORT: config.PORT,
      HOST: config.HOST,
      SUPERGRAPH_PATH: config.SUPERGRAPH_PATH,
      QUERY_PLAN_CACHE_MIB: config.QUERY_PLAN_CACHE_MIB,
      SUBGRAPH_TIMEOUT_MS: config.SUBGRAPH_TIMEOUT_MS,
      SUBGRAPH_MAX_SOCKETS: config.SUBGRAPH_MAX_SOCKETS,
      MAX_BODY_BYTES: config.MAX_BODY_BYTES,
      REDIS_URL: config.REDIS_URL,
      ORDER_STATUS_CHANNEL_PREFIX: config.ORDER_STATUS_CHANNEL_PREFIX,
      SUBGRAPH_URLS: overrides,
      EXPLORER_ENABLED: config.EXPLORER_ENABLED ? config.EXPLORER_ENABLED === 'true' : !production,
      INTROSPECTION_ENABLED: config.INTROSPECTION_ENABLED
        ? config.INTROSPECTION_ENABLED === 'true'
        : !production,
    };
  });
export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
