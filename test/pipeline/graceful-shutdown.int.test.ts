import { randomBytes } from 'node:crypto';
import { asAdmin } from '../support/auth';
import { expectData } from '../support/graphql';
import { startPlatformStack, type PlatformStack } from '../support/platform-stack';
import { spawnService, type ServiceProcess } from '../support/processes';

interface Sent {
  kind: 'mutation' | 'query';
  startedAt: number;
  endedAt: number;
  /** HTTP 200 with data and no errors. */
  ok: boolean;
  /** What went wrong otherwise: an HTTP status and GraphQL errors, or a connection error. */
  failure?: string;
  /** The listing a successful mutation created. */
  listingId?: string;
}

const CLIENTS = 32;

describe('a gateway process stopped with SIGTERM under load', () => {
  let stack: PlatformStack;
  let gateway: ServiceProcess;
  let admin: Record<string, string>;
  let ownerId: string;

  beforeAll(async () => {
    stack = await startPlatformStack();
    admin = await asAdmin();
    ({
      createUser: { id: ownerId },
    } = await expectData<{ createUser: { id: string } }>(
      stack.gatewayUrl,
      `mutation { createUser(input: { name: "Landlord" }) { id } }`,
      {},
      admin,
    ));
    // The gateway as production runs it: its own process, its own entry point and signal handling.
    gateway = await spawnService('gateway/src/index.ts', {
      ...stack.gatewayEnv,
      SHUTDOWN_TIMEOUT_MS: '15000',
    });
    await gateway.ready();
  });

  afterAll(async () => {
    await gateway?.kill('SIGKILL');
    await stack?.stop();
  });

  async function send(url: string, kind: Sent['kind']): Promise<Sent> {
    const startedAt = performance.now();
    const body =
      kind === 'mutation'
        ? {
            query: `mutation ($userId: ID!) { createListing(input: { userId: $userId, listingType: RENT, price: 1000 }) { id } }`,
            variables: { userId: ownerId },
          }
        : { query: `{ listings(pageSize: 10) { id price user { name } } }` };
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...admin },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      const parsed = JSON.parse(text) as { data?: { createListing?: { id: string } }; errors?: unknown[] };
      const ok = response.status === 200 && !parsed.errors && parsed.data !== undefined;
      return {
        kind,
        startedAt,
        endedAt: performance.now(),
        ok,
        failure: ok ? undefined : `HTTP ${response.status} ${text.slice(0, 200)}`,
        listingId: parsed.data?.createListing?.id,
      };
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? String(error);
      return { kind, startedAt, endedAt: performance.now(), ok: false, failure: `connection: ${cause}` };
    }
  }

  it('finishes every request in flight, loses no mutation, and exits 0', async () => {
    const url = `http://127.0.0.1:${gateway.port}/graphql`;
    const sent: Sent[] = [];
    let exited = false;
    const clients = Array.from({ length: CLIENTS }, async (_, client) => {
      // Each client alternates writes and reads until the process is gone.
      for (let i = 0; !exited; i += 1) {
        const result = await send(url, (client + i) % 2 === 0 ? 'mutation' : 'query');
        sent.push(result);
        if (!result.ok) await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const signalledAt = performance.now();
    const exitCode = await gateway.kill('SIGTERM');
    const exitedAt = performance.now();
    exited = true;
    await Promise.all(clients);

    expect(exitCode).toBe(0);
    expect(exitedAt - signalledAt).toBeLessThan(15_000);
    // The test means something only if requests were running when the signal came.
    const inFlight = sent.filter(
      ({ startedAt, endedAt }) => startedAt < signalledAt && endedAt > signalledAt,
    );
    expect(inFlight.length).toBeGreaterThan(0);
    // A request is answered in full, or refused before it runs: at the connection, or with 503
    // SHUTTING_DOWN when it reached the process after the stop began. Never an error answer.
    const refused = (failure = '') => failure.startsWith('connection:') || failure.includes('SHUTTING_DOWN');
    expect(sent.filter(({ ok, failure }) => !ok && !refused(failure))).toEqual([]);
    expect(inFlight.filter(({ ok }) => ok).length).toBeGreaterThan(0);

    // Nothing lost, nothing done unseen: the listings that exist are exactly those the clients were
    // told of. (A refused request must not have run.)
    const created = new Set(sent.flatMap(({ listingId }) => (listingId ? [listingId] : [])));
    const { user } = await expectData<{ user: { listings: Array<{ id: string }> } }>(
      stack.gatewayUrl,
      `query ($id: ID!) { user(id: $id) { listings(pageSize: 100) { id } } }`,
      { id: ownerId },
    );
    const stored = new Set<string>(user.listings.map(({ id }) => id));
    for (let pageNum = 2; stored.size === (pageNum - 1) * 100; pageNum += 1) {
      const page = await expectData<{ user: { listings: Array<{ id: string }> } }>(
        stack.gatewayUrl,
        `query ($id: ID!, $pageNum: Int) { user(id: $id) { listings(pageNum: $pageNum, pageSize: 100) { id } } }`,
        { id: ownerId, pageNum },
      );
      for (const { id } of page.user.listings) stored.add(id);
    }
    expect([...stored].sort()).toEqual([...created].sort());
  });
});

// Production runs with NODE_ENV=production, where Apollo Server would install SIGTERM and SIGINT
// handlers of its own beside runService's: the stop must still finish at once and exit 0.
describe('a gateway process in production mode stopped with SIGTERM', () => {
  it('exits 0 at once, well within its shutdown timeout', async () => {
    const nowhere = 'http://127.0.0.1:9/graphql';
    const gateway = await spawnService('gateway/src/index.ts', {
      NODE_ENV: 'production',
      INTERNAL_AUTH_SECRET: randomBytes(32).toString('hex'),
      JWT_SECRET: randomBytes(32).toString('hex'),
      SUBGRAPH_USERS_URL: nowhere,
      SUBGRAPH_LISTINGS_URL: nowhere,
      SUBGRAPH_STOCKS_URL: nowhere,
      SUBGRAPH_ORDERS_URL: nowhere,
      SUBGRAPH_NOTIFICATIONS_URL: nowhere,
      SHUTDOWN_TIMEOUT_MS: '15000',
    });
    try {
      await gateway.ready(60_000);
      const signalledAt = performance.now();
      const exitCode = await gateway.kill('SIGTERM');
      expect(exitCode).toBe(0);
      expect(performance.now() - signalledAt).toBeLessThan(5_000);
    } finally {
      await gateway.kill('SIGKILL');
    }
  });
});
