// `npm run seed`: loads the demo data through the public API as the back office (an admin token
// signed with the development secret, or JWT_SECRET), idempotently: running it again creates
// nothing that is already there. Needs the system running (`npm run dev` does both).
import { signUserToken, userTokenSigningSettings } from '@brokerage/auth';

interface GraphQLBody<T> {
  data?: T;
  errors?: Array<{ message: string }>;
}

// Public demo credentials: `npm run dev` prints them. Sign in as `username` with `password`.
export const DEMO_USERS = [
  { name: 'user1', credit: 10_000_000, username: 'user1', password: 'user1-demo-password' },
  { name: 'user2', credit: 5_000_000, username: 'user2', password: 'user2-demo-password' },
];
const LISTINGS_PER_USER = 150;
// The stocks of data/price_data.csv, which the price fetcher replays.
const DEMO_STOCKS = [
  { id: '44891482026867833', symbol: 'stock1', name: 'Stock One' },
  { id: '35425587644337450', symbol: 'stock2', name: 'Stock Two' },
  { id: '65883838195688438', symbol: 'stock3', name: 'Stock Three' },
];

let adminToken: Promise<string> | undefined;

export async function call<T>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  adminToken ??= signUserToken(userTokenSigningSettings(), 'seed', { admin: true, expiresIn: '10m' });
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await adminToken}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as GraphQLBody<T>;
  if (body.errors?.length || !body.data) throw new Error(`seed failed: ${JSON.stringify(body.errors)}`);
  return body.data;
}

export async function findUserByName(url: string, name: string): Promise<string | undefined> {
  for (let pageNum = 1; ; pageNum += 1) {
    const { users } = await call<{ users: Array<{ id: string; name: string }> }>(
      url,
      'query ($pageNum: Int) { users(pageNum: $pageNum, pageSize: 100) { id name } }',
      { pageNum },
    );
    const found = users.find((user) => user.name === name);
    if (found) return found.id;
    if (users.length < 100) return undefined;
  }
}

/** Whether the demo user's credentials work already (no admin token: sign-in is public). */
async function canSignIn(url: string, username: string, password: string): Promise<boolean> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: 'mutation ($input: SignInInput!) { signIn(input: $input) { refreshToken } }',
      variables: { input: { username, password } },
    }),
  });
  const body = (await response.json()) as GraphQLBody<{ signIn: { refreshToken: string } }>;
  if (!body.data?.signIn) return false;
  // The check's own session is not needed: signed out at once.
  await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: 'mutation ($token: String!) { signOut(refreshToken: $token) }',
      variables: { token: body.data.signIn.refreshToken },
    }),
  });
  return true;
}

async function countListings(url: string, userId: string): Promise<number> {
  let total = 0;
  for (let pageNum = 1; ; pageNum += 1) {
    const { listings } = await call<{ listings: unknown[] }>(
      url,
      'query ($userId: ID, $pageNum: Int) { listings(userId: $userId, pageNum: $pageNum, pageSize: 100) { id } }',
      { userId, pageNum },
    );
    total += listings.length;
    if (listings.length < 100) return total;
  }
}

export async function seed(url: string, log: (message: string) => void = console.log): Promise<void> {
  for (const [index, demo] of DEMO_USERS.entries()) {
    let userId = await findUserByName(url, demo.name);
    if (!userId) {
      ({
        createUser: { id: userId },
      } = await call<{ createUser: { id: string } }>(
        url,
        'mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }',
        { input: { name: demo.name, credit: demo.credit } },
      ));
      log(`seed: created ${demo.name} (id ${userId})`);
    }
    if (!(await canSignIn(url, demo.username, demo.password))) {
      await call(
        url,
        'mutation ($input: SetUserCredentialsInput!) { setUserCredentials(input: $input) { id } }',
        { input: { userId, username: demo.username, password: demo.password } },
      );
      log(`seed: ${demo.name} signs in as ${demo.username}`);
    }
    const existing = await countListings(url, userId);
    for (let n = existing; n < LISTINGS_PER_USER; n += 1) {
      // Deterministic, varied demo values: every third one is for rent, prices in whole units.
      const listingType = (n + index) % 3 === 0 ? 'RENT' : 'SALE';
      const price = listingType === 'RENT' ? 500_00 + n * 1_000 : 150_000_00 + n * 100_000;
      await call(url, 'mutation ($input: CreateListingInput!) { createListing(input: $input) { id } }', {
        input: { userId, listingType, price },
      });
    }
    if (existing < LISTINGS_PER_USER) log(`seed: ${demo.name} has ${LISTINGS_PER_USER} listings`);
  }
  for (const stock of DEMO_STOCKS) {
    // By id: `stocks` lists the listed ones only, and a delisted demo stock stays delisted.
    const { stock: known } = await call<{ stock: { id: string } | null }>(
      url,
      'query ($id: ID!) { stock(id: $id) { id } }',
      { id: stock.id },
    );
    if (known) continue;
    await call(url, 'mutation ($input: CreateStockInput!) { createStock(input: $input) { id } }', {
      input: stock,
    });
    log(`seed: listed ${stock.symbol}`);
  }
  log('seed: demo data in place');
}

if (require.main === module) {
  seed(process.env.GATEWAY_URL ?? 'http://127.0.0.1:4000/graphql').catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
