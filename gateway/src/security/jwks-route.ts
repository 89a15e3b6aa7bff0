import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@brokerage/service';
import type { Authenticator } from './authentication';

export const JWKS_PATH = '/.well-known/jwks.json';

/**
 * Serves at `/.well-known/jwks.json` the public keys the gateway verifies access tokens with:
 * exactly the set its JWKS verifier holds (fetched from JWT_JWKS_URL: the users service, or an
 * outside identity provider), so what others are told to trust is what the gateway trusts. 404
 * when tokens are checked with the HS256 secret alone.
 */
export function createJwksRoute(authenticator: Authenticator, logger: Logger) {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || (req.url ?? '').split('?')[0] !== JWKS_PATH) {
      return false;
    }
    authenticator.publicKeys().then(
      (jwks) => {
        if (!jwks) {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: 'no public keys: tokens are checked with a shared secret' }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' });
        res.end(JSON.stringify(jwks));
      },
      (error: unknown) => {
        logger.warn({ err: error }, 'the JWKS endpoint did not answer');
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '5' });
        res.end(JSON.stringify({ error: 'the keys are not available right now' }));
      },
    );
    return true;
  };
}
