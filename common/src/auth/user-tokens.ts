import { createRemoteJWKSet, errors, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ANONYMOUS, AuthenticationError, type Caller } from './caller';
import { ExpiringCache } from './expiring-cache';

export interface UserTokenSettings {
  /** HS256 secret (development, tests, small deployments). */
  secret?: string;
  /** JWKS endpoint of the identity provider (production): RS256/ES256/EdDSA keys, rotated by the provider. */
  jwksUrl?: string;
  issuer: string;
  audience: string;
}

/** The claim that lists a user's roles; `admin` among them makes the user an admin. */
export const ROLES_CLAIM = 'roles';

function callerOf(payload: JWTPayload): Caller {
  if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 64) {
    throw new AuthenticationError('The token has no valid subject');
  }
  const roles = payload[ROLES_CLAIM];
  const admin = Array.isArray(roles) && roles.includes('admin');
  return { kind: 'user', userId: payload.sub, admin };
}

/**
 * Verifies the bearer tokens clients send to the gateway (HTTP `Authorization` header, or
 * `authorization` in graphql-ws connectionParams). No token means an anonymous caller; a token
 * that fails verification is refused outright rather than treated as anonymous.
 */
export class UserTokenVerifier {
  private readonly key: Uint8Array | JWTVerifyGetKey;
  private readonly algorithms: string[];
  // A client sends the same token with every request until it expires: verified once (about
  // 140 us of HMAC and claim checks), then a lookup.
  private readonly verified = new ExpiringCache<Caller>();

  constructor(private readonly settings: UserTokenSettings) {
    if (settings.jwksUrl) {
      this.key = createRemoteJWKSet(new URL(settings.jwksUrl));
      this.algorithms = ['RS256', 'ES256', 'EdDSA'];
    } else if (settings.secret) {
      this.key = new TextEncoder().encode(settings.secret);
      this.algorithms = ['HS256'];
    } else {
      throw new Error('a user token secret or JWKS URL is required');
    }
  }

  async callerFrom(authorization: string | undefined): Promise<Caller> {
    if (authorization === undefined || authorization === '') return ANONYMOUS;
    const match = /^Bearer\s+([\w-]+\.[\w-]+\.[\w-]+)\s*$/i.exec(authorization);
    if (!match) throw new AuthenticationError('The authorization must be "Bearer <token>"');
    const token = match[1]!;
    const cached = this.verified.get(token);
    if (cached) return cached;
    try {
      const { payload } = await jwtVerify(token, this.key as Uint8Array, {
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        algorithms: this.algorithms,
        requiredClaims: ['exp', 'sub'],
      });
      const caller = callerOf(payload);
      this.verified.set(token, caller, payload.exp! * 1000);
      return caller;
    } catch (error) {
      if (error instanceof AuthenticationError) throw error;
      if (error instanceof errors.JOSEError) {
        const reason = error instanceof errors.JWTExpired ? 'it has expired' : error.code;
        throw new AuthenticationError(`The bearer token is not valid (${reason})`);
      }
      throw error;
    }
  }
}

/** Signs a user token with an HS256 secret: for the development token script and tests. */
export async function signUserToken(
  settings: { secret: string; issuer: string; audience: string },
  userId: string,
  options: { admin?: boolean; expiresIn?: string | number } = {},
): Promise<string> {
  return new SignJWT({ [ROLES_CLAIM]: options.admin ? ['admin'] : [] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '1h')
    .sign(new TextEncoder().encode(settings.secret));
}
