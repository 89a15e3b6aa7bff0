import { z } from 'zod';
import { developmentSecret } from '@brokerage/service';

/**
 * Secrets with a development default, so `npm run dev` and the tests run with no setup.
 * `loadConfig` refuses them when NODE_ENV is production.
 */
export const DEVELOPMENT_INTERNAL_AUTH_SECRET = developmentSecret(
  'development-only-internal-auth-secret-do-not-deploy',
);
export const DEVELOPMENT_USER_TOKEN_SECRET = developmentSecret(
  'development-only-user-token-secret-do-not-deploy',
);

/** Every service that serves or calls a subgraph holds the platform's internal token secret. */
export const internalAuthConfig = {
  INTERNAL_AUTH_SECRET: z
    .string()
    .min(32, 'must be at least 32 characters')
    .default(DEVELOPMENT_INTERNAL_AUTH_SECRET),
};

export const DEFAULT_JWT_ISSUER = 'brokerage-platform';
export const DEFAULT_JWT_AUDIENCE = 'brokerage-api';

/** How the gateway checks client tokens: a shared HS256 secret, or the identity provider's JWKS. */
export const userTokenConfig = {
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_JWKS_URL: z.url().optional(),
  JWT_ISSUER: z.string().min(1).default(DEFAULT_JWT_ISSUER),
  JWT_AUDIENCE: z.string().min(1).default(DEFAULT_JWT_AUDIENCE),
};

/**
 * What development tokens (`npm run token`, the demo seed, tests) are signed with: the same
 * variables and defaults the gateway verifies with.
 */
export function userTokenSigningSettings(env: NodeJS.ProcessEnv = process.env) {
  return {
    secret: env.JWT_SECRET ?? DEVELOPMENT_USER_TOKEN_SECRET,
    issuer: env.JWT_ISSUER ?? DEFAULT_JWT_ISSUER,
    audience: env.JWT_AUDIENCE ?? DEFAULT_JWT_AUDIENCE,
  };
}
