import { Client } from 'pg';
import { asAdmin } from '../../test/support/auth';
import { errorCodes, expectData, graphql, metricTotal } from '../../test/support/graphql';
import { startPlatformStack, type PlatformStack } from '../../test/support/platform-stack';

interface User {
  id: string;
  name: string;
  credit: number;
}
interface Listing {
  id: string;
  price: number;
  listingType: 'RENT' | 'SALE';
  user: { id: string; name: string };
}

const CREATE_USER = `mutation ($input: CreateUserInput!) { createUser(input: $input) { id name credit createdAt updatedAt } }`;
const CREATE_LISTING = `mutation ($input: CreateListingInput!) {
  createListing(input: $input) { id price listingType createdAt user { id name } }
}`;
const LISTINGS = `query ($pageNum: Int, $pageSize: Int, $userId: ID) {
  listings(pageNum: $pageNum, pageSize: $pageSize, userId: $userId) { id price listingType user { id name } }
}`;

describe('users and listings through the gateway', () => {
  let stack: PlatformStack;
  let url: string;
  // Users are opened by the back office; authorization itself is tested in authorization.int.test.ts.
  let admin: Record<string, string>;

  beforeAll(async () => {
    // Many reads from one address: a read budget this file cannot exhaust (it is tested on its own).
    stack = await startPlatformStack({ gatewayEnv: { RATE_LIMIT_READ_POINTS: '100000000' } });
    url = stack.gatewayUrl;
    admin = await asAdmin();
  });
  afterAll(() => stack.stop());

  async function createUser(name: string, credit?: number): Promise<User> {
    const data = await expectData<{ createUser: User }>(url, CREATE_USER, { input: { name, credit } }, admin);
    return data.createUser;
  }

  async function createListing(userId: string, price: number, listingType = 'SALE'): Promise<Listing> {
    const data = await expectData<{ createListing: Listing }>(
      url,
      CREATE_LISTING,
      { input: { userId, price, listingType } },
      admin,
    );
    return data.createListing;
  }

  async function count(query: 'users' | 'listings'): Promise<number> {
    let total = 0;
    for (let pageNum = 1; ; pageNum += 1) {
      const data = await expectData<Record<string, unknown[]>>(
        url,
        `{ ${query}(pageNum: ${pageNum}, pageSize: 100) { id } }`,
      );
      total += data[query]!.length;
      if (data[query]!.length < 100) return total;
    }
  }

  describe('users', () => {
    it('creates a user whose credit is beyond 2^31 and reads it back exactly', async () => {
      const user = await createUser('  Ada Lovelace ', 5_000_000_000_000);
      expect(user).toMatchObject({ name: 'Ada Lovelace', credit: 5_000_000_000_000 });
      expect(user.id).toMatch(/^\d+$/);
      const data = await expectData<{ user: User }>(
        url,
        `query ($id: ID!) { user(id: $id) { id name credit } }`,
        { id: user.id },
        admin,
      );
      expect(data.user).toEqual({ id: user.id, name: 'Ada Lovelace', credit: 5_000_000_000_000 });
    });

    it('gives a new user 0 credit when none is given', async () => {
      expect((await createUser('No Credit')).credit).toBe(0);
    });

    it('answers null for an unknown user and BAD_USER_INPUT for a malformed id', async () => {
      expect(
        (
          await graphql(
            url,
            `
              {
                user(id: "987654321") {
                  id
                }
              }
            `,
          )
        ).data,
      ).toEqual({ user: null });
      expect(await errorCodes(url, `{ user(id: "not-an-id") { id } }`)).toEqual(['BAD_USER_INPUT']);
    });

    it.each([
      ['an empty name', { name: '' }],
      ['a blank name', { name: '   ' }],
      ['a name over 100 characters', { name: 'x'.repeat(101) }],
      ['a name with control characters', { name: 'bad\u0000name' }],
      ['negative credit', { name: 'Neg', credit: -1 }],
      ['fractional credit', { name: 'Frac', credit: 1.5 }],
      ['credit beyond 2^53', { name: 'Huge', credit: 2 ** 53 }],
    ])('rejects %s with BAD_USER_INPUT and writes nothing', async (_case, input) => {
      const before = await count('users');
      expect(await errorCodes(url, CREATE_USER, { input }, admin)).toEqual(['BAD_USER_INPUT']);
      expect(await count('users')).toBe(before);
    });
  });

  describe('listings', () => {
    let owner: User;
    beforeAll(async () => {
      owner = await createUser('Owner', 1_000);
    });

    it('creates a listing whose owner the gateway resolves from the users subgraph', async () => {
      const listing = await createListing(owner.id, 9_007_199_254_740_991, 'RENT');
      expect(listing).toMatchObject({
        price: 9_007_199_254_740_991,
        listingType: 'RENT',
        user: { id: owner.id, name: 'Owner' },
      });
      const data = await expectData<{ listing: Listing }>(
        url,
        `query ($id: ID!) { listing(id: $id) { id user { name } } }`,
        {
          id: listing.id,
        },
      );
      expect(data.listing).toEqual({ id: listing.id, user: { name: 'Owner' } });
    });

    it('refuses a listing for a user who does not exist with USER_NOT_FOUND and writes nothing', async () => {
      const before = await count('listings');
      expect(
        await errorCodes(
          url,
          CREATE_LISTING,
          { input: { userId: '123456789', price: 10, listingType: 'SALE' } },
          admin,
        ),
      ).toEqual(['USER_NOT_FOUND']);
      expect(await count('listings')).toBe(before);
    });

    it.each([
      ['a zero price', { price: 0, listingType: 'SALE' }],
      ['a negative price', { price: -5, listingType: 'SALE' }],
      ['a fractional price', { price: 10.5, listingType: 'SALE' }],
      ['an unknown listing type', { price: 10, listingType: 'LEASE' }],
      ['a malformed user id', { price: 10, listingType: 'SALE', userId: 'abc' }],
    ])('rejects %s with BAD_USER_INPUT and writes nothing', async (_case, input) => {
      const before = await count('listings');
      expect(await errorCodes(url, CREATE_LISTING, { input: { userId: owner.id, ...input } }, admin)).toEqual(
        ['BAD_USER_INPUT'],
      );
      expect(await count('listings')).toBe(before);
    });

    it('answers null for an unknown listing and BAD_USER_INPUT for a malformed id', async () => {
      expect(
        (
          await graphql(
            url,
            `
              {
                listing(id: "99999999") {
                  id
                }
              }
            `,
          )
        ).data,
      ).toEqual({ listing: null });
      expect(await errorCodes(url, `{ listing(id: "1e5") { id } }`)).toEqual(['BAD_USER_INPUT']);
    });
  });

  describe('pagination', () => {
    let seller: User;
    let created: Listing[];

    beforeAll(async () => {
      seller = await createUser('Seller', 0);
      created = [];
      for (let i = 1; i <= 7; i += 1) created.push(await createListing(seller.id, i * 100));
    });

    const page = async (pageNum: number, pageSize: number) =>
      (await expectData<{ listings: Listing[] }>(url, LISTINGS, { pageNum, pageSize, userId: seller.id }))
        .listings;

    it("filters by owner and returns the owner's listings newest first", async () => {
      expect((await page(1, 100)).map(({ id }) => id)).toEqual(created.map(({ id }) => id).reverse());
    });

    it('returns a short last page and an empty page beyond it', async () => {
      expect(await page(3, 3)).toHaveLength(1);
      expect(await page(4, 3)).toEqual([]);
    });

    it('never repeats or skips a row when listings share a creation time', async () => {
      // Rows created in one instant (e.g. one import) tie on created_at; ids must break the tie.
      const db = new Client({ connectionString: stack.databaseUrls.listings });
      await db.connect();
      await db.query(`UPDATE listings SET created_at = '2026-01-01T00:00:00Z' WHERE user_id = $1`, [
        seller.id,
      ]);
      await db.end();
      const pages = [...(await page(1, 3)), ...(await page(2, 3)), ...(await page(3, 3))];
      const expected = created.map(({ id }) => id).sort((a, b) => Number(BigInt(b) - BigInt(a)));
      expect(pages.map(({ id }) => id)).toEqual(expected);
    });

    it("pages a user's own listings through User.listings", async () => {
      const data = await expectData<{ user: { listings: Array<{ id: string }> } }>(
        url,
        `query ($id: ID!) { user(id: $id) { listings(pageNum: 2, pageSize: 5) { id } } }`,
        { id: seller.id },
      );
      expect(data.user.listings).toHaveLength(2);
    });

    it.each([
      ['pageSize 0', { pageNum: 1, pageSize: 0 }],
      ['pageSize 101', { pageNum: 1, pageSize: 101 }],
      ['pageNum 0', { pageNum: 0, pageSize: 10 }],
      ['pageNum -1', { pageNum: -1, pageSize: 10 }],
    ])('rejects %s with BAD_USER_INPUT', async (_case, args) => {
      expect(await errorCodes(url, LISTINGS, args)).toEqual(['BAD_USER_INPUT']);
    });
  });

  describe('no N+1', () => {
    beforeAll(async () => {
      // Ten listings by ten different owners, so that the page needs ten users.
      for (let i = 0; i < 10; i += 1) await createListing((await createUser(`Batch ${i}`)).id, 1_000 + i);
    });

    /** Calls the gateway made to each subgraph and SQL statements each subgraph ran during `run`. */
    async function measure(run: () => Promise<unknown>) {
      const gatewayMetrics = stack.metricsUrl(stack.gatewayUrl);
      const read = async () => ({
        usersCalls: await metricTotal(
          gatewayMetrics,
          'subgraph_fetch_duration_seconds_count',
          'subgraph="users"',
        ),
        listingsCalls: await metricTotal(
          gatewayMetrics,
          'subgraph_fetch_duration_seconds_count',
          'subgraph="listings"',
        ),
        usersSql: await metricTotal(stack.metricsUrl(stack.usersUrl), 'db_queries_total'),
        listingsSql: await metricTotal(stack.metricsUrl(stack.listingsUrl), 'db_queries_total'),
      });
      const before = await read();
      await run();
      const after = await read();
      return {
        usersCalls: after.usersCalls - before.usersCalls,
        listingsCalls: after.listingsCalls - before.listingsCalls,
        usersSql: after.usersSql - before.usersSql,
        listingsSql: after.listingsSql - before.listingsSql,
      };
    }

    it('a page of 10 listings with their users costs one call and one SQL query per subgraph', async () => {
      let listings: Listing[] = [];
      const cost = await measure(async () => {
        listings = (await expectData<{ listings: Listing[] }>(url, LISTINGS, { pageSize: 10 })).listings;
      });
      expect(new Set(listings.map(({ user }) => user.id)).size).toBe(10);
      expect(listings.every(({ user }) => user.name.startsWith('Batch'))).toBe(true);
      expect(cost).toEqual({ usersCalls: 1, listingsCalls: 1, usersSql: 1, listingsSql: 1 });
    });

    it("a page of users with each one's listings costs one call and one SQL query per subgraph", async () => {
      const cost = await measure(() =>
        expectData(url, `{ users(pageSize: 10) { id name listings(pageSize: 2) { id price } } }`),
      );
      expect(cost).toEqual({ usersCalls: 1, listingsCalls: 1, usersSql: 1, listingsSql: 1 });
    });
  });
});
