import { DEFAULT_JWT_AUDIENCE, DEFAULT_JWT_ISSUER } from '@brokerage/auth';
import { env } from '@brokerage/service';
import { subgraphConfigSchema } from '@brokerage/subgraph';
import { z } from 'zod';

export const usersConfigSchema = subgraphConfigSchema
  .extend({
    PORT: env.port(4001),
    HOST: env.host(),
    DATABASE_URL: env.postgresUrl('users'),
    DB_POOL_SIZE: env.positiveInt(10),
    /** A new user's trading account is opened there, with its starting credit. */
    ORDERS_SUBGRAPH_URL: env.url('http://127.0.0.1:4004/graphql'),
    SERVICE_TIMEOUT_MS: env.milliseconds(5_000),
    /**
     * The private keys that sign access tokens, as a JWK set `{"keys": [...]}` (ES256 or EdDSA, each
     * with a `kid`): the first signs, all are published at `/.well-known/jwks.json`. Required in
     * production (`npm run token -- --new-signing-key` prints a key). Unset outside production, or
     * `generate-at-start` anywhere (one replica only: docker compose), a key is generated at start
     * and the tokens it signed stop working when the process restarts.
     */
    ACCESS_TOKEN_SIGNING_KEYS: z.preprocess(
      (value) => (value === '' ? undefined : value),
      z.string().optional(),
    ),
    /** Access token lifetime: how long a signed-out or rotated-away token can still be used. */
    ACCESS_TOKEN_TTL_SECONDS: env.positiveInt(900),
    /** A session's lifetime from sign-in; its refresh token rotates on every use within it. */
    REFRESH_TOKEN_TTL_SECONDS: env.positiveInt(30 * 24 * 3600),
    /** Written into access tokens; the gateway checks both (its JWT_ISSUER and JWT_AUDIENCE). */
    JWT_ISSUER: z.string().min(1).default(DEFAULT_JWT_ISSUER),
    JWT_AUDIENCE: z.string().min(1).default(DEFAULT_JWT_AUDIENCE),
  })
  .superRefine((config, ctx) => {
    if (config.NODE_ENV === 'production' && !config.ACCESS_TOKEN_SIGNING_KEYS) {
      ctx.addIssue({
        code: 'custom',
        path: ['ACCESS_TOKEN_SIGNING_KEYS'],
        message: 'set the access token signing keys in production (npm run token -- --new-signing-key)',
      });
    }
  });
export type UsersConfig = z.infer<typeof usersConfigSchema>;
