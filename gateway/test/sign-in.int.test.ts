import fc from 'fast-check';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { SessionErrorCode, AccessTokenSigner, SigningKeySet, generateSigningKey } from '@brokerage/auth';
import { loadConfig } from '@brokerage/service';
import { decodeProtectedHeader, type JWK } from 'jose';
import { gatewayConfigSchema } from '../src/config';
import { start as startGateway, type RunningGateway } from '../src/server';
import { asAdmin } from '../../test/support/auth';
import * as api from '../../test/support/graphql';
import { startPlatformStack, type PlatformStack } from '../../test/support/platform-stack';
import { eventually } from '../../test/support/price-series';
import { testLogger, uniqueSuffix } from '../../test/support/services';

const SESSION =
  'accessToken tokenType accessTokenExpiresAt refreshToken refreshTokenExpiresAt user { id name }';
const SIGN_UP = `mutation ($input: SignUpInput!) { signUp(input: $input) { ${SESSION} } }`;
const SIGN_IN = `mutation ($input: SignInInput!) { signIn(input: $input) { ${SESSION} } }`;
const REFRESH = `mutation ($token: String!) { refreshSession(refreshToken: $token) { ${SESSION} } }`;
const SIGN_OUT = 'mutation ($token: String!) { signOut(refreshToken: $token) }';
const SIGN_OUT_EVERYWHERE = 'mutation { signOutEverywhere }';
const CHANGE_PASSWORD = `mutation ($input: ChangePasswordInput!) { changePassword(input: $input) { ${SESSION} } }`;
const ME = '{ me { id name credit } }';

interface Session {
  accessToken: string;
  tokenType: string;
  accessTokenExpiresAt: string;
  refreshToken: string;
  refreshTokenExpiresAt: string;
  user: { id: string; name: string };
}

const bearer = (session: { accessToken: string }) => ({ authorization: `Bearer ${session.accessToken}` });

describe('sign-up and sign-in through the gateway', () => {
  let stack: PlatformStack;
  let url: string;
  // The users service signs with `current` and still publishes `previous` (a rotation under way);
  // `retired` signed tokens before `previous` and is no longer published.
  let keys: { current: JWK; previous: JWK; retired: JWK };
  let counter = 0;
  const username = (prefix = 'person') => `${prefix}${(counter += 1)}_${uniqueSuffix().slice(-6)}`;
  const password = 'correct horse battery staple';

  beforeAll(async () => {
    keys = {
      current: await generateSigningKey('ES256'),
      previous: await generateSigningKey('EdDSA'),
      retired: await generateSigningKey('ES256'),
    };
    stack = await startPlatformStack({
      usersEnv: { ACCESS_TOKEN_SIGNING_KEYS: JSON.stringify({ keys: [keys.current, keys.previous] }) },
      // These tests sign in far more often than a person would; the limits have their own test below.
      gatewayEnv: {
        SIGN_IN_ATTEMPTS_PER_USERNAME: '1000',
        SIGN_IN_ATTEMPTS_PER_ADDRESS: '10000',
        RATE_LIMIT_MUTATIONS: '10000',
      },
      verification: { stallLimitMs: 10_000, decide: () => ({ delayMs: 20, verified: true }) },
    });
    url = stack.gatewayUrl;
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const signUp = async (input: { username: string; password: string; name: string }) =>
    (await api.expectData<{ signUp: Session }>(url, SIGN_UP, { input })).signUp;
  const signIn = async (input: { username: string; password: string }) =>
    (await api.expectData<{ signIn: Session }>(url, SIGN_IN, { input })).signIn;
  const refresh = async (token: string) =>
    (await api.expectData<{ refreshSession: Session }>(url, REFRESH, { token })).refreshSession;
  const refreshCodes = (token: string) => api.errorCodes(url, REFRESH, { token });
  const me = async (headers: Record<string, string>) =>
    (await api.expectData<{ me: { id: string; name: string; credit: number } | null }>(url, ME, {}, headers))
      .me;

  it('signs up: a person with an account holding no cash, signed in at once', async () => {
    const name = username();
    const session = await signUp({ username: name, password, name: 'Grace Hopper' });
    expect(session.tokenType).toBe('Bearer');
    expect(session.user.name).toBe('Grace Hopper');
    expect(session.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // 15 minutes by default.
    const lifetime = Date.parse(session.accessTokenExpiresAt) - Date.now();
    expect(lifetime).toBeGreaterThan(14 * 60_000);
    expect(lifetime).toBeLessThanOrEqual(15 * 60_000);
    expect(decodeProtectedHeader(session.accessToken)).toMatchObject({ alg: 'ES256', kid: keys.current.kid });
    expect(await me(bearer(session))).toEqual({ id: session.user.id, name: 'Grace Hopper', credit: 0 });
  });

  it('refuses a username someone has, whatever its case, and weak passwords, writing nothing', async () => {
    const taken = username('Taken');
    await signUp({ username: taken, password, name: 'First' });
    const attempt = (input: { username: string; password: string }) =>
      api.graphql(url, SIGN_UP, { input: { ...input, name: 'Second' } });
    const codeAndField = (body: api.GraphQLResponse<unknown>) =>
      body.errors?.map((error) => [error.extensions?.code, error.extensions?.field]);
    expect(codeAndField(await attempt({ username: taken.toLowerCase(), password }))).toEqual([
      [SessionErrorCode.USERNAME_TAKEN, 'input.username'],
    ]);
    const fresh = username();
    for (const weak of ['short pass', 'qwerty123456', 'QWERTY123456', fresh]) {
      expect(codeAndField(await attempt({ username: fresh, password: weak }))).toEqual([
        [SessionErrorCode.WEAK_PASSWORD, 'input.password'],
      ]);
    }
    expect(codeAndField(await attempt({ username: fresh, password: 'x'.repeat(129) }))).toEqual([
      ['BAD_USER_INPUT', 'input.password'],
    ]);
    for (const bad of ['ab', 'a'.repeat(33), '_leading', 'white space', 'ünïcode', 'semi;colon']) {
      expect(codeAndField(await attempt({ username: bad, password }))).toEqual([
        ['BAD_USER_INPUT', 'input.username'],
      ]);
    }
    // None of the refused sign-ups exists: the fresh username is still free.
    await signUp({ username: fresh, password, name: 'Third' });
  });

  it('signs in with the right password, whatever the case of the username', async () => {
    const name = username('Case');
    const { user } = await signUp({ username: name, password, name: 'Ada' });
    const session = await signIn({ username: name.toUpperCase(), password });
    expect(session.user.id).toBe(user.id);
    expect((await me(bearer(session)))?.id).toBe(user.id);
  });

  it('answers a wrong password and an unknown username alike, with nothing that tells them apart', async () => {
    const name = username();
    await signUp({ username: name, password, name: 'Known' });
    const wrongPassword = await api.graphql(url, SIGN_IN, {
      input: { username: name, password: `${password}!` },
    });
    const unknownUser = await api.graphql(url, SIGN_IN, { input: { username: `${name}x`, password } });
    expect(wrongPassword.data).toBeNull();
    expect(wrongPassword.errors?.map((error) => error.extensions?.code)).toEqual([
      SessionErrorCode.INVALID_CREDENTIALS,
    ]);
    expect(unknownUser).toEqual(wrongPassword);
  });

  it('takes as long to refuse an unknown username as a wrong password', async () => {
    const name = username();
    await signUp({ username: name, password, name: 'Timed' });
    const timed = async (input: { username: string; password: string }) => {
      const started = process.hrtime.bigint();
      const codes = await api.errorCodes(url, SIGN_IN, { input });
      const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
      expect(codes).toEqual([SessionErrorCode.INVALID_CREDENTIALS]);
      return elapsed;
    };
    // Interleaved, so that whatever else loads the machine weighs on both kinds alike.
    const unknown: number[] = [];
    const wrong: number[] = [];
    for (let round = 0; round < 25; round += 1) {
      const [first, second] = round % 2 === 0 ? [unknown, wrong] : [wrong, unknown];
      first.push(
        await timed(
          first === unknown
            ? { username: `nobody${round}x${name}`, password }
            : { username: name, password: `wrong ${round} ${password}` },
        ),
      );
      second.push(
        await timed(
          second === unknown
            ? { username: `nobody${round}x${name}`, password }
            : { username: name, password: `wrong ${round} ${password}` },
        ),
      );
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const [unknownMedian, wrongMedian] = [median(unknown), median(wrong)];
    // A verification of a real hash (tens of milliseconds) against none would differ several
    // times over; the same work differs by noise only. The bound is generous for a busy machine.
    expect(unknownMedian / wrongMedian).toBeGreaterThan(0.6);
    expect(unknownMedian / wrongMedian).toBeLessThan(1 / 0.6);
  });

  it('rotates the refresh token on every use, and a rotated one used again ends the whole session', async () => {
    const name = username();
    const first = await signUp({ username: name, password, name: 'Rotating' });
    const other = await signIn({ username: name, password });
    const second = await refresh(first.refreshToken);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.user.id).toBe(first.user.id);
    expect((await me(bearer(second)))?.id).toBe(first.user.id);
    const third = await refresh(second.refreshToken);

    // The first token again: someone holds a copy. The session ends, its newest token with it.
    expect(await refreshCodes(first.refreshToken)).toEqual([SessionErrorCode.INVALID_REFRESH_TOKEN]);
    expect(await refreshCodes(third.refreshToken)).toEqual([SessionErrorCode.INVALID_REFRESH_TOKEN]);
    // Another session of the same person is not touched.
    expect((await refresh(other.refreshToken)).user.id).toBe(first.user.id);
    for (const hostile of ['', 'x', 'A'.repeat(43), 'A'.repeat(10_000)]) {
      expect(await refreshCodes(hostile)).toEqual([SessionErrorCode.INVALID_REFRESH_TOKEN]);
    }
  });

  it('signs out one session, and every session with signOutEverywhere', async () => {
    const name = username();
    const phone = await signUp({ username: name, password, name: 'Leaving' });
    const laptop = await signIn({ username: name, password });
    const tablet = await signIn({ username: name, password });
    expect(
      (await api.expectData<{ signOut: boolean }>(url, SIGN_OUT, { token: phone.refreshToken })).signOut,
    ).toBe(true);
    expect(await refreshCodes(phone.refreshToken)).toEqual([SessionErrorCode.INVALID_REFRESH_TOKEN]);
    // Signing out again finds no live session.
    expect(
      (await api.expectData<{ signOut: boolean }>(url, SIGN_OUT, { token: phone.refreshToken })).signOut,
    ).toBe(false);
    const laptopAgain = await refresh(laptop.refreshToken);

    expect(await api.errorCodes(url, SIGN_OUT_EVERYWHERE)).toEqual(['UNAUTHENTICATED']);
    const everywhere = await api.expectData<{ signOutEverywhere: number }>(
      url,
      SIGN_OUT_EVERYWHERE,
      {},
      bearer(laptopAgain),
    );
    expect(everywhere.signOutEverywhere).toBe(2);
    expect(await refreshCodes(laptopAgain.refreshToken)).toEqual([SessionErrorCode.INVALID_REFRESH_TOKEN]);
    expect(await refreshCodes(tablet.refreshToken)).toEqual([SessionErrorCode.INVALID_REFRESH_TOKEN]);
  });

  it('changes the password: the old one and every other session stop working', async () => {
    const name = username();
    const first = await signUp({ username: name, password, name: 'Changing' });
    const newPassword = 'a much longer and newer passphrase';
    const change = (input: { currentPassword: string; newPassword: string }) =>
      api.graphql<{ changePassword: Session }>(url, CHANGE_PASSWORD, { input }, bearer(first));
    const wrongCurrent = await change({ currentPassword: 'not the password at all', newPassword });
    expect(wrongCurrent.errors?.map((error) => error.extensions?.code)).toEqual([
      SessionErrorCode.INVALID_CREDENTIALS,
    ]);
    expect(
      (await change({ currentPassword: password, newPassword: 'qwerty123456' })).errors?.[0]?.extensions
        ?.code,
    ).toBe(SessionErrorCode.WEAK_PASSWORD);
    const changed = (await change({ currentPassword: password, newPassword })).data!.changePassword;
    expect(await refreshCodes(first.refreshToken)).toEqual([SessionErrorCode.INVALID_REFRESH_TOKEN]);
    expect((await refresh(changed.refreshToken)).user.id).toBe(first.user.id);
    expect(await api.errorCodes(url, SIGN_IN, { input: { username: name, password } })).toEqual([
      SessionErrorCode.INVALID_CREDENTIALS,
    ]);
    expect((await signIn({ username: name, password: newPassword })).user.id).toBe(first.user.id);
  });

  it('refuses an access token that has expired', async () => {
    const { user } = await signUp({ username: username(), password, name: 'Late' });
    // Signed as the users service signs, with its current key, 16 minutes ago: expired a minute ago.
    const signer = new AccessTokenSigner(await SigningKeySet.fromJwks([keys.current]), {
      issuer: 'brokerage-platform',
      audience: 'brokerage-api',
      lifetimeSeconds: 900,
    });
    const expired = await signer.sign(user.id, { now: Date.now() - 16 * 60_000 });
    const body = await api.graphql(url, ME, {}, bearer({ accessToken: expired.token }));
    expect(body.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    expect(body.errors?.[0]?.message).toContain('expired');
    const fresh = await signer.sign(user.id);
    expect((await me(bearer({ accessToken: fresh.token })))?.id).toBe(user.id);
  });

  it('publishes the current and previous keys, accepts both, and refuses a key that was rotated out', async () => {
    const response = await fetch(url.replace(/\/graphql$/, '/.well-known/jwks.json'));
    expect(response.status).toBe(200);
    const jwks = (await response.json()) as { keys: JWK[] };
    expect(jwks.keys.map((key) => key.kid)).toEqual([keys.current.kid, keys.previous.kid]);
    for (const key of jwks.keys) expect(key).not.toHaveProperty('d');

    const { user } = await signUp({ username: username(), password, name: 'Rotated' });
    const tokenSignedWith = async (key: JWK) =>
      (
        await new AccessTokenSigner(await SigningKeySet.fromJwks([key]), {
          issuer: 'brokerage-platform',
          audience: 'brokerage-api',
          lifetimeSeconds: 900,
        }).sign(user.id)
      ).token;
    expect((await me(bearer({ accessToken: await tokenSignedWith(keys.previous) })))?.id).toBe(user.id);
    const retired = await api.graphql(
      url,
      ME,
      {},
      bearer({ accessToken: await tokenSignedWith(keys.retired) }),
    );
    expect(retired.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  });

  it('lets a person who just signed up buy, once an admin has deposited cash', async () => {
    await stack.listStock({ id: '4242', symbol: 'signup', name: 'Sign-up Stock', price: 250 });
    const session = await signUp({ username: username('Buyer'), password, name: 'New Buyer' });
    const userId = session.user.id;
    const buy =
      'mutation { buyStock(input: { symbol: "signup", quantity: 4 }) { status order { id total } } }';
    // No cash yet: the buy is denied, and nothing is reserved.
    expect(
      (await api.expectData<{ buyStock: { status: string } }>(url, buy, {}, bearer(session))).buyStock.status,
    ).toBe('DENIED');
    await api.expectData(
      url,
      'mutation ($userId: ID!) { depositCash(userId: $userId, amount: 10000, reference: "signup-deposit") { id } }',
      { userId },
      await asAdmin(),
    );
    const { buyStock } = await api.expectData<{
      buyStock: { status: string; order: { id: string; total: number } };
    }>(url, buy, {}, bearer(session));
    expect(buyStock.order.total).toBe(1000);
    const status = await eventually(
      async () =>
        (
          await api.expectData<{ order: { status: string } }>(
            url,
            'query ($id: ID!) { order(id: $id) { status } }',
            { id: buyStock.order.id },
            bearer(session),
          )
        ).order.status,
      (value) => value === 'COMPLETED',
      20_000,
    );
    expect(status).toBe('COMPLETED');
    expect((await me(bearer(session)))?.credit).toBe(9000);
  });

  it('answers hostile input to sign-up, sign-in and refresh with coded client errors only', async () => {
    const clientCodes = new Set([
      'BAD_USER_INPUT',
      'GRAPHQL_VALIDATION_FAILED',
      SessionErrorCode.INVALID_CREDENTIALS,
      SessionErrorCode.INVALID_REFRESH_TOKEN,
      SessionErrorCode.USERNAME_TAKEN,
      SessionErrorCode.WEAK_PASSWORD,
    ]);
    const text = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.constant(''),
    );
    const anyValue = fc.oneof(text, fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('signUp', 'signIn', 'refreshSession'),
        anyValue,
        anyValue,
        anyValue,
        async (mutation, first, second, third) => {
          const [query, variables] =
            mutation === 'signUp'
              ? [SIGN_UP, { input: { username: first, password: second, name: third } }]
              : mutation === 'signIn'
                ? [SIGN_IN, { input: { username: first, password: second } }]
                : [REFRESH, { token: first }];
          const body = await api.graphql(url, query, variables);
          if (body.errors?.length) {
            expect(body.data ?? null).toBeNull();
            for (const error of body.errors) expect(clientCodes).toContain(error.extensions?.code);
          } else {
            expect(mutation).toBe('signUp');
          }
        },
      ),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 40) },
    );
  });

  describe('attempt limits', () => {
    let limited: RunningGateway;
    // Each test counts in its own gateway's Redis prefix: the address is 127.0.0.1 for all.
    const startLimited = () =>
      startGateway(
        loadConfig(gatewayConfigSchema, {
          ...stack.gatewayEnv,
          RATE_LIMIT_KEY_PREFIX: `test.${uniqueSuffix()}.ratelimit:`,
          SIGN_IN_ATTEMPTS_PER_USERNAME: '3',
          SIGN_IN_ATTEMPTS_PER_ADDRESS: '8',
        }),
        testLogger('gateway-limited'),
      );

    beforeAll(async () => {
      limited = await startLimited();
    });

    afterAll(async () => {
      await limited?.stop();
    });

    it('counts every signIn of an operation over graphql-ws, under aliases and in fragments', async () => {
      const gateway = await startLimited();
      const client = createClient({
        url: gateway.url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        retryAttempts: 0,
      });
      try {
        const known = username('Socket');
        await signUp({ username: known, password, name: 'Socket' });
        // Two attempts in one operation: one inline, one in a named fragment.
        const query = `mutation ($u: String!, $p: String!) {
          a: signIn(input: { username: $u, password: $p }) { accessToken }
          ...Again
        }
        fragment Again on Mutation { b: signIn(input: { username: $u, password: $p }) { accessToken } }`;
        const send = () =>
          new Promise<api.GraphQLResponse<unknown>>((resolve, reject) => {
            let result: api.GraphQLResponse<unknown> = {};
            client.subscribe(
              { query, variables: { u: known, p: password } },
              {
                next: (value) => (result = value as api.GraphQLResponse<unknown>),
                error: (error) =>
                  Array.isArray(error)
                    ? resolve({ errors: error as api.GraphQLResponse<unknown>['errors'] })
                    : reject(error instanceof Error ? error : new Error(JSON.stringify(error))),
                complete: () => resolve(result),
              },
            );
          });
        // Attempts 1 and 2 of 3: both sign in.
        expect(Object.keys((await send()).data ?? {})).toEqual(['a', 'b']);
        // Attempts 3 and 4: over the username's limit, the whole operation is refused.
        expect((await send()).errors?.map((error) => error.extensions?.code)).toEqual(['RATE_LIMITED']);
      } finally {
        await client.dispose();
        await gateway.stop();
      }
    });

    const attempt = async (user: string, pass = 'not the password, sorry') => {
      const response = await fetch(limited.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: SIGN_IN, variables: { input: { username: user, password: pass } } }),
      });
      const body = (await response.json()) as api.GraphQLResponse<unknown>;
      return {
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        codes: body.errors?.map((e) => e.extensions?.code),
      };
    };

    it('limits attempts per username, known or not, and per address, even with the right password', async () => {
      const known = username('Limited');
      await signUp({ username: known, password, name: 'Limited' });
      const unknown = `${known}-nobody`;
      for (let n = 0; n < 3; n += 1) {
        expect((await attempt(known)).codes).toEqual([SessionErrorCode.INVALID_CREDENTIALS]);
        expect((await attempt(unknown.toUpperCase())).codes).toEqual([SessionErrorCode.INVALID_CREDENTIALS]);
      }
      // The username's attempts are spent, whatever the case it is written in and whatever the password.
      const refused = await attempt(known.toUpperCase(), password);
      expect(refused.codes).toEqual(['RATE_LIMITED']);
      expect(refused.status).toBe(429);
      expect(Number(refused.retryAfter)).toBeGreaterThan(0);
      expect((await attempt(unknown)).codes).toEqual(['RATE_LIMITED']);
      // Those were the address's 7th and 8th: a ninth attempt, for any username, is refused too.
      expect((await attempt(username('Other'))).codes).toEqual(['RATE_LIMITED']);
    });
  });
});
