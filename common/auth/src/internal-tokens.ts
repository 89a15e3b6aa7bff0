import { errors, jwtVerify, SignJWT } from 'jose';
import { ANONYMOUS, AuthenticationError, type Caller } from './caller';
import { ExpiringCache } from './expiring-cache';

/**
 * The header that carries a caller inside the platform: from the gateway to a subgraph, or from
 * one service to another. Subgraphs refuse any request without a valid one, so the only way in
 * from outside is through the gateway.
 */
export const CALLER_TOKEN_HEADER = 'x-caller-token';

const ISSUER = 'brokerage-platform';
const AUDIENCE = 'brokerage-services';
const ALGORITHM = 'HS256';

function subjectOf(caller: Caller): string {
  switch (caller.kind) {
    case 'anonymous':
      return 'anonymous';
    case 'user':
      return `user:${caller.userId}`;
    case 'service':
      return `service:${caller.service}`;
  }
}

function callerFrom(subject: unknown, admin: unknown): Caller | undefined {
  if (subject === 'anonymous') return ANONYMOUS;
  if (typeof subject !== 'string') return undefined;
  if (subject.startsWith('user:') && subject.length > 5) {
    return { kind: 'user', userId: subject.slice(5), admin: admin === true };
  }
  if (subject.startsWith('service:') && subject.length > 8) {
    return { kind: 'service', service: subject.slice(8) };
  }
  return undefined;
}

/**
 * Signs and verifies the short-lived tokens (HS256 JWTs with a secret only the platform's services
 * hold) that carry a caller between services. Both sides cache: the gateway signs a caller once
 * per half lifetime, and a subgraph verifies a token string once, so a busy path costs a map lookup.
 */
export class InternalTokens {
  private readonly key: Uint8Array;
  /** Tokens signed per caller, reused until half their lifetime is over. */
  private readonly signed: ExpiringCache<string>;
  private readonly verified: ExpiringCache<Caller>;

  constructor(
    secret: string,
    /** Which service signs: recorded as the token's `act` claim, for the logs of the receiver. */
    readonly signer: string,
    private readonly lifetimeSeconds = 300,
    private readonly maxCached = 10_000,
  ) {
    this.key = new TextEncoder().encode(secret);
    this.signed = new ExpiringCache(maxCached);
    this.verified = new ExpiringCache(maxCached);
  }

  async sign(caller: Caller): Promise<string> {
    const subject = subjectOf(caller);
    const cacheKey = `${subject}|${caller.kind === 'user' && caller.admin ? 'admin' : ''}`;
    const now = Date.now();
    const cached = this.signed.get(cacheKey, now);
    if (cached) return cached;
    const value = await new SignJWT({
      admin: caller.kind === 'user' && caller.admin ? true : undefined,
      act: this.signer,
    })
      .setProtectedHeader({ alg: ALGORITHM })
      .setSubject(subject)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(now / 1000) + this.lifetimeSeconds)
      .sign(this.key);
    this.signed.set(cacheKey, value, now + (this.lifetimeSeconds * 1000) / 2);
    return value;
  }

  /** A token naming the signing service itself, for its own calls to other services. */
  signAsService(): Promise<string> {
    return this.sign({ kind: 'service', service: this.signer });
  }

  /** The caller a token names; AuthenticationError when it is missing, forged or expired. */
  async verify(token: string | undefined): Promise<Caller> {
    if (!token) throw new AuthenticationError('This service is reached through the gateway only');
    const now = Date.now();
    const cached = this.verified.get(token, now);
    if (cached) return cached;
    try {
      const { payload } = await jwtVerify(token, this.key, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms: [ALGORITHM],
        requiredClaims: ['exp', 'sub'],
      });
      const caller = callerFrom(payload.sub, payload.admin);
      if (!caller) throw new AuthenticationError('The caller token names no caller');
      this.verified.set(token, caller, payload.exp! * 1000);
      return caller;
    } catch (error) {
      if (error instanceof AuthenticationError) throw error;
      if (error instanceof errors.JOSEError) {
        throw new AuthenticationError(`The caller token is not valid (${error.code})`);
      }
      throw error;
    }
  }
}
