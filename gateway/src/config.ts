import path from 'node:path';
import { DEVELOPMENT_USER_TOKEN_SECRET, internalAuthConfig, userTokenConfig } from '@brokerage/auth';
import { baseConfigSchema, env } from '@brokerage/service';
import { DEFAULT_ORDER_STATUS_CHANNEL_PREFIX } from '@brokerage/orders-contract';
import { DEFAULT_PRICE_POINTS_CHANNEL_PREFIX } from '@brokerage/price-ingestor-contract';
import { z } from 'zod';

const SUBGRAPH_URL_VARIABLE = /^SUBGRAPH_([A-Z0-9_]+)_URL$/;

const optionalFlag = z.enum(['true', 'false']).optional();

const gatewaySettings = baseConfigSchema.extend({
  PORT: env.port(4000),
  HOST: env.host(),
  /** The composed supergraph (`npm run compose`); the gateway refuses to start without it. */
  SUPERGRAPH_PATH: z.string().default(path.resolve(__dirname, '../../schema/supergraph.graphql')),
  /**
   * Where each subgraph really is, when not where the supergraph says: from SUBGRAPH_<NAME>_URL
   * variables, whose names depend on the supergraph (collected before parsing, below).
   */
  SUBGRAPH_URLS: z.record(z.string(), z.url({ error: 'must be a URL' })),
  /** Approximate memory for cached query plans. */
  QUERY_PLAN_CACHE_MIB: env.positiveInt(30),
  SUBGRAPH_TIMEOUT_MS: env.milliseconds(10_000),
  /** Keep-alive connections per subgraph origin. */
  SUBGRAPH_MAX_SOCKETS: env.positiveInt(64),
  /** Identical read calls of one caller in flight at the same moment share one subgraph call. */
  SUBGRAPH_SHARE_IN_FLIGHT: env.boolean(true),
  /** Entity fetches of one operation to one subgraph that start together go as one call. */
  SUBGRAPH_BATCH_ENTITIES: env.boolean(true),
  MAX_BODY_BYTES: env.positiveInt(100_000),
  /** Where the orders service publishes status changes (orderStatus), and where rate limits are counted. */
  REDIS_URL: env.redisUrl(),
  ORDER_STATUS_CHANNEL_PREFIX: z.string().default(DEFAULT_ORDER_STATUS_CHANNEL_PREFIX),
  /** Where the price ingestor announces each stock's new minute points (priceChanged). */
  PRICE_POINTS_CHANNEL_PREFIX: z.string().min(1).default(DEFAULT_PRICE_POINTS_CHANNEL_PREFIX),
  /** The exchange's time zone, in which price points' minutes are given. */
  EXCHANGE_TIME_ZONE: z.string().default('Asia/Tehran'),
  /** Apollo Sandbox and the offline explorer; off in production unless asked for. */
  EXPLORER_ENABLED: optionalFlag,
  INTROSPECTION_ENABLED: optionalFlag,
  ...internalAuthConfig,
  ...userTokenConfig,
  /** Mutations one caller (a user, or an IP address when anonymous) may send per window, across replicas. */
  RATE_LIMIT_MUTATIONS: env.positiveInt(60),
  RATE_LIMIT_WINDOW_MS: env.positiveInt(60_000),
  RATE_LIMIT_KEY_PREFIX: z.string().default('ratelimit:'),
  /**
   * Query cost one caller may spend per window, across replicas (GitHub's GraphQL API allows
   * 5,000 points an hour per user); the cost is the one MAX_COST limits.
   */
  RATE_LIMIT_READ_POINTS: env.positiveInt(5_000),
  RATE_LIMIT_READ_WINDOW_MS: env.positiveInt(3_600_000),
  /**
   * Sign-in attempts per username and per client address in a window, across replicas: enough for
   * a person who mistypes, far too few to guess a password.
   */
  SIGN_IN_ATTEMPTS_PER_USERNAME: env.positiveInt(10),
  SIGN_IN_ATTEMPTS_PER_ADDRESS: env.positiveInt(100),
  SIGN_IN_WINDOW_MS: env.positiveInt(15 * 60_000),
  /** Behind a load balancer, the client's address is the first X-Forwarded-For entry; trust it only then. */
  TRUST_PROXY: env.boolean(false),
  /** Limits on one operation's shape, checked before it is planned. */
  MAX_DEPTH: env.positiveInt(10),
  MAX_ALIASES: env.positiveInt(15),
  MAX_TOKENS: env.positiveInt(1_000),
  MAX_COST: env.positiveInt(5_000),
});

/** Moves SUBGRAPH_<NAME>_URL variables into one record keyed by the subgraph's name. */
function collectSubgraphUrls(input: unknown): unknown {
  if (typeof input !== 'object' || input === null) return input;
  const urls: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    const match = SUBGRAPH_URL_VARIABLE.exec(key);
    if (match) urls[match[1]!.toLowerCase()] = value;
  }
  return { ...input, SUBGRAPH_URLS: urls };
}

export const gatewayConfigSchema = z
  .preprocess(collectSubgraphUrls, gatewaySettings)
  .transform((config, ctx) => {
    const production = config.NODE_ENV === 'production';
    if (production && !config.JWT_SECRET && !config.JWT_JWKS_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['JWT_JWKS_URL'],
        message: 'set JWT_JWKS_URL (or JWT_SECRET) in production',
      });
    }
    const { EXPLORER_ENABLED, INTROSPECTION_ENABLED, ...rest } = config;
    return {
      ...rest,
      // Outside production the development secret of `npm run token` is accepted beside the JWKS
      // of the users service's sign-in; in production only what is configured.
      JWT_SECRET:
        config.JWT_SECRET ?? (production && config.JWT_JWKS_URL ? undefined : DEVELOPMENT_USER_TOKEN_SECRET),
      EXPLORER_ENABLED: EXPLORER_ENABLED ? EXPLORER_ENABLED === 'true' : !production,
      INTROSPECTION_ENABLED: INTROSPECTION_ENABLED ? INTROSPECTION_ENABLED === 'true' : !production,
    };
  });
export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
