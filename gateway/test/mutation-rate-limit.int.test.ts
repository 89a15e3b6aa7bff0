import { asUser } from '../../test/support/auth';
import { errorCodes } from '../../test/support/graphql';
import { startPlatformStack, type PlatformStack } from '../../test/support/platform-stack';
import { subscribe } from '../../test/support/subscriptions';

const RATE_LIMIT = 12;

/** Root fields named <prefix>0, <prefix>1, ...; with the alias limit (15), 13 fit in one operation. */
function listingFields(count: number, prefix = 'l'): string {
  return Array.from(
    { length: count },
    (_, i) => `${prefix}${i}: createListing(input: { userId: $userId, listingType: RENT, price: 1 }) { id }`,
  ).join(' ');
}

// Each test is a caller of its own (ids no user has: the limit is counted before anything runs,
// so whether the listings could be written does not matter, only whether they were let through).
let nextUserId = 9_000_001;
async function newCaller() {
  const userId = String(nextUserId++);
  return { userId, headers: await asUser(userId) };
}

describe('the mutation rate limit counts every root field that will run', () => {
  let stack: PlatformStack;
  let url: string;

  beforeAll(async () => {
    stack = await startPlatformStack({ gatewayEnv: { RATE_LIMIT_MUTATIONS: String(RATE_LIMIT) } });
    url = stack.gatewayUrl;
  });
  afterAll(() => stack.stop());

  it('counts root fields inside an inline fragment', async () => {
    const { userId, headers } = await newCaller();
    const inline = `mutation ($userId: ID!) { ... on Mutation { ${listingFields(RATE_LIMIT + 1)} } }`;
    // Refused whole, before any of them runs.
    expect(await errorCodes(url, inline, { userId }, headers)).toEqual(['RATE_LIMITED']);
  });

  it('counts root fields inside named fragments, spread at any depth of fragments', async () => {
    const { userId, headers } = await newCaller();
    const spread = `mutation ($userId: ID!) { ...A ... on Mutation { ...B } }
      fragment A on Mutation { ${listingFields(6, 'a')} }
      fragment B on Mutation { ${listingFields(RATE_LIMIT + 1 - 6, 'b')} }`;
    expect(await errorCodes(url, spread, { userId }, headers)).toEqual(['RATE_LIMITED']);
  });

  it('counts only the root fields @skip and @include leave, and a repeated response key once', async () => {
    const { userId, headers } = await newCaller();
    // Runs l0 ... l11 (l0 asked twice, run once): exactly the budget.
    const conditional = `mutation ($userId: ID!, $no: Boolean!) {
      ... on Mutation @skip(if: $no) { ${listingFields(RATE_LIMIT)} }
      ... on Mutation @include(if: $no) { ${listingFields(2, 'm')} }
      ${listingFields(1)}
    }`;
    const variables = { userId, no: false };
    expect(await errorCodes(url, conditional, variables, headers)).not.toContain('RATE_LIMITED');
    expect(await errorCodes(url, conditional, variables, headers)).toEqual(['RATE_LIMITED']);
  });

  it('counts root fields in fragments over WebSocket too', async () => {
    const { userId, headers } = await newCaller();
    const sent = subscribe(
      url,
      `mutation ($userId: ID!) { ...A } fragment A on Mutation { ${listingFields(RATE_LIMIT + 1)} }`,
      { userId },
      headers,
    );
    await sent.completed;
    expect(sent.results.map((result) => result.errors?.map((error) => error.extensions?.code))).toEqual([
      ['RATE_LIMITED'],
    ]);
    await sent.dispose();
  });
});
