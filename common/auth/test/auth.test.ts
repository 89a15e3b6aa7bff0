import {
  AuthenticationError,
  DEVELOPMENT_INTERNAL_AUTH_SECRET,
  InternalTokens,
  signUserToken,
  UserTokenVerifier,
} from '@brokerage/auth';
import { ConfigError, loadConfig } from '@brokerage/service';
import { subgraphConfigSchema } from '@brokerage/subgraph';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
const settings = { secret: SECRET, issuer: 'test-issuer', audience: 'test-audience' };

describe('internal caller tokens', () => {
  const tokens = new InternalTokens(SECRET, 'gateway');

  it.each([
    [{ kind: 'anonymous' as const }],
    [{ kind: 'user' as const, userId: '44891482026867833', admin: false }],
    [{ kind: 'user' as const, userId: '7', admin: true }],
    [{ kind: 'service' as const, service: 'orders' }],
  ])('carries %j from signer to verifier unchanged', async (caller) => {
    expect(await new InternalTokens(SECRET, 'users').verify(await tokens.sign(caller))).toEqual(caller);
  });

  it('signs a caller once and reuses the token while it is fresh', async () => {
    const caller = { kind: 'user' as const, userId: '1', admin: false };
    expect(await tokens.sign(caller)).toBe(await tokens.sign(caller));
    expect(await tokens.sign(caller)).not.toBe(await tokens.sign({ ...caller, admin: true }));
  });

  it('refuses a missing token, one of another secret, a tampered one and an expired one', async () => {
    const other = new InternalTokens('another-secret-that-is-long-enough-012345', 'gateway');
    const token = await tokens.sign({ kind: 'user', userId: '1', admin: false });
    const [header, , signature] = token.split('.');
    const tampered = `${header}.${Buffer.from(JSON.stringify({ sub: 'user:1', admin: true })).toString('base64url')}.${signature}`;
    const expired = await new InternalTokens(SECRET, 'gateway', -10).sign({ kind: 'anonymous' });
    for (const bad of [undefined, '', await other.sign({ kind: 'anonymous' }), tampered, expired]) {
      await expect(tokens.verify(bad)).rejects.toBeInstanceOf(AuthenticationError);
    }
  });
});

describe('client tokens', () => {
  const verifier = new UserTokenVerifier(settings);

  it('reads the user and the admin role from a valid token', async () => {
    const token = await signUserToken(settings, '42', { admin: true });
    expect(await verifier.callerFrom(`Bearer ${token}`)).toEqual({ kind: 'user', userId: '42', admin: true });
    expect(await verifier.callerFrom(`bearer ${await signUserToken(settings, '43')}`)).toEqual({
      kind: 'user',
      userId: '43',
      admin: false,
    });
  });

  it('accepts a token again without verifying it anew, but never after it expires', async () => {
    // At least two whole seconds of life (exp is in whole seconds), so that a busy machine cannot
    // see the token expire before the first two uses; then wait until just past its expiry.
    const expiresAt = Math.ceil(Date.now() / 1000) + 2;
    const token = await signUserToken(settings, '44', { expiresIn: expiresAt });
    expect(await verifier.callerFrom(`Bearer ${token}`)).toMatchObject({ userId: '44' });
    expect(await verifier.callerFrom(`Bearer ${token}`)).toMatchObject({ userId: '44' });
    await new Promise((resolve) => setTimeout(resolve, expiresAt * 1000 - Date.now() + 100));
    await expect(verifier.callerFrom(`Bearer ${token}`)).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('treats no authorization as anonymous', async () => {
    expect(await verifier.callerFrom(undefined)).toEqual({ kind: 'anonymous' });
  });

  it.each([
    ['another issuer', () => signUserToken({ ...settings, issuer: 'elsewhere' }, '1')],
    ['another audience', () => signUserToken({ ...settings, audience: 'elsewhere' }, '1')],
    [
      'an expired token',
      () => signUserToken(settings, '1', { expiresIn: Math.floor(Date.now() / 1000) - 1 }),
    ],
    ['an empty subject', () => signUserToken(settings, '')],
  ])('refuses %s', async (_case, token) => {
    await expect(verifier.callerFrom(`Bearer ${await token()}`)).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('refuses an authorization that is not a bearer JWT', async () => {
    for (const value of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer not-a-jwt', 'token']) {
      await expect(verifier.callerFrom(value)).rejects.toBeInstanceOf(AuthenticationError);
    }
  });
});

describe('development secrets', () => {
  it('serve outside production and are refused in production', () => {
    expect(loadConfig(subgraphConfigSchema, {}).INTERNAL_AUTH_SECRET).toBe(DEVELOPMENT_INTERNAL_AUTH_SECRET);
    expect(() => loadConfig(subgraphConfigSchema, { NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(
      loadConfig(subgraphConfigSchema, { NODE_ENV: 'production', INTERNAL_AUTH_SECRET: SECRET })
        .INTERNAL_AUTH_SECRET,
    ).toBe(SECRET);
  });
});
