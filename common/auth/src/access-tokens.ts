import { randomUUID } from 'node:crypto';
import {
  exportJWK,
  generateKeyPair,
  importJWK,
  SignJWT,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
} from 'jose';
import { ROLES_CLAIM } from './user-tokens';

/** The asymmetric algorithms access tokens may be signed with; the gateway's JWKS path accepts each. */
export const ACCESS_TOKEN_ALGORITHMS = ['ES256', 'EdDSA'] as const;
export type AccessTokenAlgorithm = (typeof ACCESS_TOKEN_ALGORITHMS)[number];

/** The private members of an EC or OKP JWK: never published. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

interface SigningKey {
  kid: string;
  alg: AccessTokenAlgorithm;
  privateKey: CryptoKey;
}

/**
 * The keys that sign access tokens: the first of the set signs, every one of them is published
 * (during a rotation the next key is published before it signs, and the previous one stays
 * published until the tokens it signed have expired).
 */
export class SigningKeySet {
  private constructor(
    private readonly signer: SigningKey,
    /** The public halves of every key, as served at `/.well-known/jwks.json`. */
    readonly publicJwks: JSONWebKeySet,
  ) {}

  get currentKid(): string {
    return this.signer.kid;
  }

  get algorithm(): AccessTokenAlgorithm {
    return this.signer.alg;
  }

  /** Reads `{"keys": [<private JWK>, ...]}`: every key needs a distinct `kid` and an `alg` of ES256 or EdDSA. */
  static async fromJson(json: string): Promise<SigningKeySet> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      throw new Error('the signing keys are not JSON: expected {"keys": [<private JWK>, ...]}');
    }
    const keys = (parsed as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(keys) || keys.length === 0) {
      throw new Error('the signing keys must be {"keys": [<private JWK>, ...]} with at least one key');
    }
    return SigningKeySet.fromJwks(keys as JWK[]);
  }

  static async fromJwks(keys: JWK[]): Promise<SigningKeySet> {
    const kids = new Set<string>();
    const published: JWK[] = [];
    let signer: SigningKey | undefined;
    for (const [index, jwk] of keys.entries()) {
      const { kid, alg } = jwk;
      if (typeof kid !== 'string' || kid.length === 0) throw new Error(`signing key ${index} has no kid`);
      if (kids.has(kid)) throw new Error(`two signing keys have the kid ${kid}`);
      kids.add(kid);
      if (!ACCESS_TOKEN_ALGORITHMS.includes(alg as AccessTokenAlgorithm)) {
        throw new Error(`signing key ${kid}: alg must be one of ${ACCESS_TOKEN_ALGORITHMS.join(', ')}`);
      }
      if (typeof jwk.d !== 'string') throw new Error(`signing key ${kid} is not a private key`);
      const privateKey = (await importJWK(jwk, alg)) as CryptoKey;
      if (index === 0) signer = { kid, alg: alg as AccessTokenAlgorithm, privateKey };
      published.push(publicJwk(jwk));
    }
    return new SigningKeySet(signer!, { keys: published });
  }

  /** A fresh key set of one key, for development and tests. */
  static async generate(alg: AccessTokenAlgorithm = 'ES256'): Promise<SigningKeySet> {
    return SigningKeySet.fromJwks([await generateSigningKey(alg)]);
  }

  sign(claims: Record<string, unknown>, build: (jwt: SignJWT) => SignJWT): Promise<string> {
    return build(new SignJWT(claims))
      .setProtectedHeader({ alg: this.signer.alg, kid: this.signer.kid, typ: 'JWT' })
      .sign(this.signer.privateKey);
  }
}

/** A new private signing key as a JWK, with a random `kid`: `npm run token -- --new-signing-key`. */
export async function generateSigningKey(alg: AccessTokenAlgorithm = 'ES256'): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, {
    extractable: true,
    crv: alg === 'EdDSA' ? 'Ed25519' : undefined,
  });
  return { ...(await exportJWK(privateKey)), kid: randomUUID(), alg, use: 'sig' };
}

/** The public half of a JWK: its private members removed. */
export function publicJwk(jwk: JWK): JWK {
  const copy: Record<string, unknown> = { ...jwk };
  for (const member of PRIVATE_MEMBERS) delete copy[member];
  delete copy.key_ops;
  return { ...(copy as JWK), use: 'sig' };
}

export interface AccessTokenSettings {
  issuer: string;
  audience: string;
  lifetimeSeconds: number;
}

export interface AccessToken {
  token: string;
  expiresAt: Date;
}

/**
 * Signs the access tokens the users service hands out at sign-in: JWTs the gateway verifies
 * through its JWKS path exactly as it verifies an outside identity provider's (`sub` is the user
 * id, `roles` lists `admin` for an admin).
 */
export class AccessTokenSigner {
  constructor(
    readonly keys: SigningKeySet,
    private readonly settings: AccessTokenSettings,
  ) {}

  async sign(userId: string, options: { admin?: boolean; now?: number } = {}): Promise<AccessToken> {
    const issuedAt = Math.floor((options.now ?? Date.now()) / 1000);
    const expiresAt = issuedAt + this.settings.lifetimeSeconds;
    const token = await this.keys.sign({ [ROLES_CLAIM]: options.admin ? ['admin'] : [] }, (jwt) =>
      jwt
        .setSubject(userId)
        .setIssuer(this.settings.issuer)
        .setAudience(this.settings.audience)
        .setIssuedAt(issuedAt)
        .setExpirationTime(expiresAt)
        .setJti(randomUUID()),
    );
    return { token, expiresAt: new Date(expiresAt * 1000) };
  }
}
