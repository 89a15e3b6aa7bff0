import {
  createRemoteJWKSet,
  errors,
  jwtVerify,
  SignJWT,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  type RemoteJWKSet,
} from 'jose';
import { ANONYMOUS, AuthenticationError, type Caller } from './caller';
import { ExpiringCache } from './expiring-cache';

export interface UserTokenSettings {
  /** HS256 secret (development, tests, small deployments). */
  secret?: string;
  /**
   * JWKS endpoint of whoever signs access tokens with an asymmetric key: the users service's own
   * sign-in, or an outside identity provider (RS256/ES256/EdDSA keys, rotated by their owner).
   */
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
  private readonly key: JWTVerifyGetKey;
  private readonly algorithms: string[];
  private readonly remoteKeys: RemoteJWKSet | undefined;
  // A client sends the same token with every request until it expires: verified once (an HMAC
  // and the claim checks, far dearer than a lookup), then looked up.
  private readonly verified = new ExpiringCache<Caller>();

  constructor(private readonly settings: UserTokenSettings) {
    if (!settings.jwksUrl && !settings.secret) throw new Error('a user token secret or JWKS URL is required');
    const remote = settings.jwksUrl ? createRemoteJWKSet(new URL(settings.jwksUrl)) : undefined;
    const secret = settings.secret ? new TextEncoder().encode(settings.secret) : undefined;
    this.remoteKeys = remote;
    this.algorithms = [...(secret ? ['HS256'] : []), ...(remote ? ['RS256', 'ES256', 'EdDSA'] : [])];
    // Both may be on (development: the HS256 secret of `npm run token` beside the users service's
    // keys). The key is chosen by the token's algorithm, which jose has already checked against
    // `algorithms`, so an HS256 token never meets a public key nor an ES256 token the secret.
    this.key = async (header, token) => {
      if (header.alg === 'HS256') {
        if (secret) return secret;
      } else if (remote) {
        return remote(header, token);
      }
      throw new errors.JOSEAlgNotAllowed('no key for this algorithm');
    };
  }

  /**
   * The public keys this verifier accepts from its JWKS endpoint (fetched if not yet cached or
   * stale), for the gateway to publish at `/.well-known/jwks.json`; undefined without an endpoint.
   */
  async publicKeys(): Promise<JSONWebKeySet | undefined> {
    if (!this.remoteKeys) return undefined;
    if (!this.remoteKeys.fresh) await this.remoteKeys.reload();
    return this.remoteKeys.jwks();
  }

  async callerFrom(authorization: string | undefined): Promise<Caller> {
    if (authorization === undefined || authorization === '') return ANONYMOUS;
    const match = /^Bearer\s+([\w-]+\.[\w-]+\.[\w-]+)\s*$/i.exec(authorization);
    if (!match) throw new AuthenticationError('The authorization must be "Bearer <token>"');
    const token = match[1]!;
    const cached = this.verified.get(token);
    if (cached) return cached;
    try {
      const { payload } = await jwtVerify(token, this.key, {
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
