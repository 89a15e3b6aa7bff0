import type { IncomingMessage } from 'node:http';
import { UserTokenVerifier, type Caller } from '@brokerage/auth';
import type { GatewayConfig } from '../config';

/** Identifies clients from their bearer tokens, over HTTP and over WebSocket alike. */
export class Authenticator {
  private readonly verifier: UserTokenVerifier;

  constructor(
    config: Pick<
      GatewayConfig,
      'JWT_SECRET' | 'JWT_JWKS_URL' | 'JWT_ISSUER' | 'JWT_AUDIENCE' | 'TRUST_PROXY'
    >,
  ) {
    this.verifier = new UserTokenVerifier({
      secret: config.JWT_SECRET,
      jwksUrl: config.JWT_JWKS_URL,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
    });
    this.trustProxy = config.TRUST_PROXY;
  }

  private readonly trustProxy: boolean;

  /** The caller of an HTTP request; throws AuthenticationError for a token that is not valid. */
  fromRequest(req: IncomingMessage): Promise<Caller> {
    return this.verifier.callerFrom(req.headers.authorization);
  }

  /** The caller of a graphql-ws connection, from `connectionParams.authorization` (or `Authorization`). */
  fromConnectionParams(params: Readonly<Record<string, unknown>> | undefined): Promise<Caller> {
    const value = params?.authorization ?? params?.Authorization;
    return this.verifier.callerFrom(typeof value === 'string' ? value : undefined);
  }

  /** The public keys accepted from JWT_JWKS_URL, as served at /.well-known/jwks.json. */
  publicKeys(): ReturnType<UserTokenVerifier['publicKeys']> {
    return this.verifier.publicKeys();
  }

  /** The client's address, for limits on anonymous callers. */
  clientAddress(req: IncomingMessage): string {
    if (this.trustProxy) {
      const forwarded = req.headers['x-forwarded-for'];
      const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
      if (first) return first;
    }
    return req.socket.remoteAddress ?? 'unknown';
  }
}
