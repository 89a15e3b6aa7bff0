import { decodeProtectedHeader, decodeJwt, jwtVerify, createLocalJWKSet } from 'jose';
import { AccessTokenSigner, generateSigningKey, SigningKeySet } from '@brokerage/auth';

describe('access token signing keys', () => {
  it('signs with the first key and publishes the public half of every key, nothing private', async () => {
    const [current, previous] = [await generateSigningKey('ES256'), await generateSigningKey('EdDSA')];
    const keys = await SigningKeySet.fromJson(JSON.stringify({ keys: [current, previous] }));
    expect(keys.currentKid).toBe(current.kid);
    expect(keys.publicJwks.keys.map((key) => key.kid)).toEqual([current.kid, previous.kid]);
    for (const key of keys.publicJwks.keys) {
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(key).not.toHaveProperty(member);
    }

    const signer = new AccessTokenSigner(keys, { issuer: 'iss', audience: 'aud', lifetimeSeconds: 900 });
    const { token, expiresAt } = await signer.sign('42', {
      admin: true,
      now: Date.parse('2026-12-03T10:00:00Z'),
    });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', kid: current.kid, typ: 'JWT' });
    expect(decodeJwt(token)).toMatchObject({ sub: '42', iss: 'iss', aud: 'aud', roles: ['admin'] });
    expect(expiresAt.toISOString()).toBe('2026-12-03T10:15:00.000Z');
    // The published set alone verifies it (checked at the time it was signed).
    const { payload } = await jwtVerify(token, createLocalJWKSet(keys.publicJwks), {
      currentDate: new Date('2026-12-03T10:05:00Z'),
    });
    expect(payload.sub).toBe('42');
  });

  it.each([
    ['not JSON', 'keys'],
    ['no keys', '{"keys": []}'],
    ['a key without kid', async () => ({ keys: [{ ...(await generateSigningKey()), kid: undefined }] })],
    [
      'two keys with one kid',
      async () => {
        const key = await generateSigningKey();
        return { keys: [key, { ...(await generateSigningKey()), kid: key.kid }] };
      },
    ],
    ['an RS256 or HS256 alg', async () => ({ keys: [{ ...(await generateSigningKey()), alg: 'HS256' }] })],
    ['a public key only', async () => ({ keys: [{ ...(await generateSigningKey()), d: undefined }] })],
  ])('refuses a key set with %s', async (_case, set) => {
    const json = typeof set === 'string' ? set : JSON.stringify(await set());
    await expect(SigningKeySet.fromJson(json)).rejects.toThrow();
  });
});
