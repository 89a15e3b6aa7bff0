import type { Browser } from 'playwright-core';
import { browserAvailable, launchBrowser } from '../../test/support/browser';
import { asAdmin, tokenFor } from '../../test/support/auth';
import * as api from '../../test/support/graphql';
import { startPlatformStack, type PlatformStack } from '../../test/support/platform-stack';
import { publishVerificationOutcome } from '../../test/support/verification';

const describeInBrowser = browserAvailable ? describe : describe.skip;

describeInBrowser('the offline explorer in a real browser', () => {
  let stack: PlatformStack;
  let browser: Browser;
  let ownerId: string;
  let admin: Record<string, string>;
  const expectData = <T>(url: string, query: string, variables: Record<string, unknown> = {}) =>
    api.expectData<T>(url, query, variables, admin);

  beforeAll(async () => {
    [stack, browser] = await Promise.all([
      // No verifier runs: the test itself publishes the outcome once the page shows IN_PROGRESS,
      // so a slow browser start can never let the order finish before the page is watching it.
      startPlatformStack(),
      launchBrowser(),
    ]);
    admin = await asAdmin();
    const { createUser } = await expectData<{ createUser: { id: string } }>(
      stack.gatewayUrl,
      `mutation { createUser(input: { name: "Browser Owner", credit: 1000000 }) { id } }`,
    );
    ownerId = createUser.id;
    await expectData(
      stack.gatewayUrl,
      `mutation ($userId: ID!) { createListing(input: { userId: $userId, listingType: SALE, price: 123456 }) { id } }`,
      {
        userId: createUser.id,
      },
    );
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('loads with no internet, runs the listings-with-owners query and shows the joined result', async () => {
    const page = await browser.newPage();
    const failedRequests: string[] = [];
    // Anything fetched from outside this server would fail offline; the explorer must not need it.
    page.on('requestfailed', (request) => failedRequests.push(request.url()));
    await page.goto(stack.gatewayUrl.replace(/\/graphql$/, '/graphiql'));
    await page.locator('.graphiql-execute-button').click({ timeout: 20_000 });
    const result = page.locator('.result-window');
    await result.getByText('"Browser Owner"').waitFor({ timeout: 20_000 });
    const text = (await result.textContent()) ?? '';
    expect(text).toContain('"price": 123456');
    expect(text).toContain('"listingType": "SALE"');
    expect(failedRequests).toEqual([]);
  });

  it('signs in from the form, puts the token into the headers and runs a query as that user', async () => {
    await api.expectData(
      stack.gatewayUrl,
      'mutation ($input: SignUpInput!) { signUp(input: $input) { accessToken } }',
      {
        input: { username: 'explorer_person', password: 'explorer person password', name: 'Explorer Person' },
      },
    );
    const page = await browser.newPage();
    // Only the signed-in caller gets an answer to me; anonymous, it is null.
    await page.goto(
      `${stack.gatewayUrl.replace(/\/graphql$/, '/graphiql')}?query=${encodeURIComponent('{ me { name credit } }')}` +
        `&headers=${encodeURIComponent(JSON.stringify({ 'X-Kept': 'yes' }))}`,
    );
    const form = page.locator('#sign-in');
    const status = page.locator('#sign-in-status');
    await form.getByPlaceholder('username').fill('explorer_person');
    await form.getByPlaceholder('password').fill('not the password at all');
    await form.getByRole('button', { name: 'Sign in' }).click();
    await status.getByText('INVALID_CREDENTIALS').waitFor({ timeout: 20_000 });

    await form.getByPlaceholder('password').fill('explorer person password');
    await form.getByRole('button', { name: 'Sign in' }).click();
    await status.getByText('Signed in as Explorer Person').waitFor({ timeout: 20_000 });
    await page.getByText('Headers', { exact: true }).click();
    const headersEditor = page.locator('.graphiql-editor-tool .graphiql-editor').last();
    await headersEditor.getByText('Bearer ey').waitFor({ timeout: 20_000 });
    // What was typed into the headers before stays.
    expect(await headersEditor.textContent()).toContain('X-Kept');

    await page.locator('.graphiql-execute-button').click();
    const result = page.locator('.result-window');
    await result.getByText('"Explorer Person"').waitFor({ timeout: 20_000 });
    expect(await result.textContent()).toContain('"credit": 0');
  });

  it('runs the orderStatus subscription over WebSocket and shows the order reach its final status', async () => {
    await stack.listStock({ id: '7', symbol: 'browser', name: 'Browser Stock', price: 42 });
    // The owner's token, as a user pastes it into the explorer's headers editor.
    const headers = { Authorization: `Bearer ${await tokenFor(ownerId)}` };
    const { buyStock } = await api.expectData<{ buyStock: { order: { id: string } } }>(
      stack.gatewayUrl,
      `mutation ($userId: ID!) { buyStock(input: { userId: $userId, stockId: "7", quantity: 3 }) { order { id } } }`,
      { userId: ownerId },
      headers,
    );
    const query = `subscription { orderStatus(orderId: "${buyStock.order.id}") { status message stock { symbol } } }`;
    const page = await browser.newPage();
    await page.goto(
      `${stack.gatewayUrl.replace(/\/graphql$/, '/graphiql')}?query=${encodeURIComponent(query)}` +
        `&headers=${encodeURIComponent(JSON.stringify(headers))}`,
    );
    await page.locator('.graphiql-execute-button').click({ timeout: 20_000 });
    const result = page.locator('.result-window');
    await result.getByText('"IN_PROGRESS"').waitFor({ timeout: 20_000 });
    // Only now the outcome arrives, as the verifier would publish it: the page must show the change.
    await publishVerificationOutcome(stack.topics.verificationOutcomes, buyStock.order.id, 'APPROVED');
    await result.getByText('"COMPLETED"').waitFor({ timeout: 20_000 });
    expect(await result.textContent()).toContain('Success: Buy order complete.');
  });
});
