import { loadConfig } from '@brokerage/service';
import { asAdmin, asUser } from '../../test/support/auth';
import type { GraphQLResponse } from '../../test/support/graphql';
import { startPlatformStack, type PlatformStack } from '../../test/support/platform-stack';
import { subscribe } from '../../test/support/subscriptions';
import { gatewayConfigSchema } from '../src/config';
import { start as startGateway, type RunningGateway } from '../src/server';

const BUDGET = 1_000;
const WINDOW_MS = 3_600_000;
// users 1 + 10 x (id, name) = 21
const CHEAP = '{ users(pageSize: 10) { id name } }';
const CHEAP_COST = 21;
// users 1 + 100 x (id, name, listings) + 400 x id = 701
const DEAR = '{ users(pageSize: 100) { id name listings(pageSize: 4) { id } } }';
const DEAR_COST = 701;

async function query(url: string, text: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: text }),
  });
  const budget = {
    limit: response.headers.get('x-ratelimit-limit'),
    remaining: response.headers.get('x-ratelimit-remaining'),
    reset: response.headers.get('x-ratelimit-reset'),
    cost: response.headers.get('x-ratelimit-cost'),
  };
  const body = (await response.json()) as GraphQLResponse<Record<string, unknown>>;
  return { status: response.status, headers: response.headers, budget, body };
}

describe('a read budget per caller, shared by every gateway replica', () => {
  let stack: PlatformStack;
  let replica: RunningGateway;

  beforeAll(async () => {
    stack = await startPlatformStack({
      gatewayEnv: { RATE_LIMIT_READ_POINTS: String(BUDGET), RATE_LIMIT_READ_WINDOW_MS: String(WINDOW_MS) },
    });
    replica = await startGateway(loadConfig(gatewayConfigSchema, stack.gatewayEnv));
  });
  afterAll(async () => {
    await replica.stop();
    await stack.stop();
  });

  it('charges each query its cost, says what is left and when it is whole again, and refuses past it', async () => {
    const started = Date.now();
    const first = await query(stack.gatewayUrl, CHEAP);
    expect(first.body.errors).toBeUndefined();
    expect(first.budget).toMatchObject({
      limit: String(BUDGET),
      remaining: String(BUDGET - CHEAP_COST),
      cost: String(CHEAP_COST),
    });
    const resetAt = Number(first.budget.reset) * 1000;
    expect(resetAt).toBeGreaterThanOrEqual(started + WINDOW_MS - 1_000);
    expect(resetAt).toBeLessThanOrEqual(Date.now() + WINDOW_MS + 1_000);

    // The second replica counts against the same budget.
    const dear = await query(replica.url, DEAR);
    expect(dear.body.errors).toBeUndefined();
    expect(dear.budget.remaining).toBe(String(BUDGET - CHEAP_COST - DEAR_COST));

    const refused = await query(stack.gatewayUrl, DEAR);
    expect(refused.status).toBe(429);
    expect(refused.body.data ?? undefined).toBeUndefined();
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(WINDOW_MS / 1000 - 60);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_MS / 1000);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({
      code: 'RATE_LIMITED',
      cost: DEAR_COST,
      budget: BUDGET,
      remaining: BUDGET - CHEAP_COST - DEAR_COST,
      retryAfterSeconds: retryAfter,
    });
    expect(refused.budget.remaining).toBe(String(BUDGET - CHEAP_COST - DEAR_COST));

    // A refused query spends nothing: one that fits still runs.
    const cheap = await query(replica.url, CHEAP);
    expect(cheap.body.errors).toBeUndefined();
    expect(cheap.budget.remaining).toBe(String(BUDGET - 2 * CHEAP_COST - DEAR_COST));
  });

  it('gives each user a budget of their own, and leaves admins unmetered', async () => {
    const user = await query(stack.gatewayUrl, DEAR, await asUser('9200001'));
    expect(user.body.errors).toBeUndefined();
    expect(user.budget.remaining).toBe(String(BUDGET - DEAR_COST));
    const again = await query(stack.gatewayUrl, DEAR, await asUser('9200001'));
    expect(again.body.errors?.map((error) => error.extensions?.code)).toEqual(['RATE_LIMITED']);
    for (let i = 0; i < 3; i += 1) {
      const admin = await query(stack.gatewayUrl, DEAR, await asAdmin());
      expect(admin.body.errors).toBeUndefined();
      expect(admin.budget.remaining).toBeNull();
    }
  });

  it('charges queries sent over WebSocket to the same budget', async () => {
    const headers = await asUser('9200002');
    expect((await query(stack.gatewayUrl, DEAR, headers)).body.errors).toBeUndefined();
    const sent = subscribe(replica.url, DEAR, {}, headers);
    await sent.completed;
    expect(sent.results.map((result) => result.errors?.[0]?.extensions)).toEqual([
      expect.objectContaining({ code: 'RATE_LIMITED', cost: DEAR_COST, remaining: BUDGET - DEAR_COST }),
    ]);
    await sent.dispose();
  });

  it('does not charge mutations, which have a limit of their own', async () => {
    const headers = await asUser('9200003');
    const mutation = await fetch(stack.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({
        query: `mutation { createListing(input: { userId: "9200003", listingType: RENT, price: 1 }) { id } }`,
      }),
    });
    expect(mutation.headers.get('x-ratelimit-remaining')).toBeNull();
    expect((await query(stack.gatewayUrl, CHEAP, headers)).budget.remaining).toBe(
      String(BUDGET - CHEAP_COST),
    );
  });
});
