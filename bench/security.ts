import { randomBytes } from 'node:crypto';

/**
 * Secrets for one benchmark run. The services run with NODE_ENV=production, which refuses the
 * public development defaults; every service of the run gets these (as a deployment would).
 */
export function benchSecrets() {
  return {
    INTERNAL_AUTH_SECRET: randomBytes(32).toString('hex'),
    JWT_SECRET: randomBytes(32).toString('hex'),
    // The users service's access token key, made at its start: a bench runs one users process.
    ACCESS_TOKEN_SIGNING_KEYS: 'generate-at-start',
  };
}
