import { CALLER_TOKEN_HEADER, DEVELOPMENT_INTERNAL_AUTH_SECRET, InternalTokens } from '@brokerage/auth';
import { createKafka } from '@brokerage/kafka';
import { decodeJson, loadConfig } from '@brokerage/service';
import { toExchangeMoment } from '@brokerage/price-fetcher-contract';
import { stockListingEventSchema, type StockListingEvent } from '@brokerage/stocks-contract';
import type { Consumer } from 'kafkajs';
import { asAdmin, asUser } from '../../../test/support/auth';
import { errorCodes, expectData, graphql, metricTotal } from '../../../test/support/graphql';
import { startPlatformStack, type PlatformStack } from '../../../test/support/platform-stack';
import { eventually } from '../../../test/support/price-series';
import { kafkaBrokers, testLogger, testRedisUrl, uniqueSuffix } from '../../../test/support/services';
import { subscribe } from '../../../test/support/subscriptions';
import { createApp as createFetcher, type PriceFetcherApp } from '../../../workers/price-fetcher/src/app';
import { priceFetcherConfigSchema } from '../../../workers/price-fetcher/src/config';
import {
  startTsetmcStandIn,
  type TsetmcStandIn,
} from '../../../workers/price-fetcher/test/tsetmc-fixture-server';
import { createApp as createIngestor, type PriceIngestorApp } from '../../../workers/price-ingestor/src/app';
import { priceIngestorConfigSchema } from '../../../workers/price-ingestor/src/config';

// The whole path of a new stock: listed through the gateway, announced by the stocks service, picked
// up by a running price fetcher (the TSETMC stand-in answers for it), ingested, and priced in the API
// and on the priceChanged stream; then delisted, after which the fetcher no longer asks for it, and
// listed again, after which it does.

const today = toExchangeMoment(new Date(), 'Asia/Tehran').date;
const FETCH_INTERVAL_MS = 300;
const CREATE = `mutation ($input: CreateStockInput!) { createStock(input: $input) { id symbol delistedAt } }`;
const DELIST = `mutation ($id: ID!) { delistStock(id: $id) { id symbol delistedAt } }`;
const RELIST = `mutation ($id: ID!) { relistStock(id: $id) { id symbol name delistedAt } }`;
const PRICE = `query ($id: ID!) { stock(id: $id) { lastPrice } }`;

describe('stocks onboard themselves: listing, fetching and delisting', () => {
  const suffix = uniqueSuffix();
  let stack: PlatformStack;
  let url: string;
  let admin: Record<string, string>;
  let standIn: TsetmcStandIn;
  let fetcher: PriceFetcherApp;
  let fetcherMetrics: string;
  let ingestor: PriceIngestorApp;
  let announcements: Consumer;
  const announced: StockListingEvent[] = [];
  const early = { id: '44891482026867833', symbol: 'early', name: 'Listed before the fetcher started' };
  const late = { id: '35425587644337450', symbol: 'late', name: 'Listed while the fetcher runs' };

  const lastPrice = async (id: string) =>
    (await expectData<{ stock: { lastPrice: number | null } }>(url, PRICE, { id })).stock.lastPrice;
  const callsFor = (id: string) => standIn.calls.filter(({ path }) => path.endsWith(`/${id}`)).length;

  beforeAll(async () => {
    stack = await startPlatformStack();
    url = stack.gatewayUrl;
    admin = await asAdmin();
    standIn = await startTsetmcStandIn(today);
    standIn.trade(early.id, 90005, 1000);
    standIn.trade(late.id, 90010, 2000);
    await expectData(url, CREATE, { input: early }, admin);

    ingestor = createIngestor(
      loadConfig(priceIngestorConfigSchema, {
        PORT: '0',
        KAFKA_BROKERS: kafkaBrokers().join(','),
        PRICES_TOPIC: stack.topics.prices,
        CONSUMER_GROUP: `ingestor-${suffix}`,
        REDIS_URL: testRedisUrl,
        PRICES_KEY_PREFIX: stack.pricesKeyPrefix,
        PRICE_POINTS_CHANNEL_PREFIX: stack.pricePointsChannelPrefix,
      }),
      testLogger('ingestor'),
    );
    await ingestor.start();
    fetcher = createFetcher(
      loadConfig(priceFetcherConfigSchema, {
        PORT: '0',
        KAFKA_BROKERS: kafkaBrokers().join(','),
        PRICES_TOPIC: stack.topics.prices,
        REDIS_URL: testRedisUrl,
        REDIS_KEY_PREFIX: `test:${suffix}:fetcher:`,
        PRICE_SOURCE: 'tsetmc',
        TSETMC_BASE_URL: standIn.url,
        FETCH_INTERVAL_MS: String(FETCH_INTERVAL_MS),
        STOCKS_SUBGRAPH_URL: stack.stocksUrl,
        STOCK_LISTINGS_TOPIC: stack.topics.stockListings,
        LISTINGS_CONSUMER_GROUP: `fetcher-${suffix}`,
      }),
      testLogger('fetcher'),
    );
    fetcherMetrics = `${(await fetcher.start()).url}/metrics`;

    announcements = createKafka({
      clientId: 't',
      brokers: kafkaBrokers(),
      logger: testLogger('kafka'),
    }).consumer({
      groupId: `t-${suffix}`,
      // Fetches that wait at most half a second: its disconnect waits for the one in flight.
      maxWaitTimeInMs: 500,
    });
    await announcements.connect();
    await announcements.subscribe({ topic: stack.topics.stockListings, fromBeginning: true });
    await announcements.run({
      eachMessage: async ({ message }) => {
        announced.push(decodeJson(stockListingEventSchema, message.value));
      },
    });
  }, 90_000);

  afterAll(async () => {
    await announcements.disconnect();
    await fetcher.stop();
    await ingestor.stop();
    await standIn.stop();
    await stack.stop();
  });

  it('prices a stock listed before the fetcher started: the fetcher rebuilds its list from the stocks service', async () => {
    expect(
      await eventually(
        () => lastPrice(early.id),
        (price) => price === 1000,
        20_000,
      ),
    ).toBe(1000);
  });

  it('prices a stock created while the fetcher runs, with no restart, and streams its first point', async () => {
    // Fetched only once listed: the stand-in has its trades already.
    expect(callsFor(late.id)).toBe(0);
    expect(await lastPrice(early.id)).toBe(1000);
    const created = await expectData<{ createStock: { delistedAt: string | null } }>(
      url,
      CREATE,
      { input: late },
      admin,
    );
    expect(created.createStock.delistedAt).toBeNull();
    const watching = subscribe<{ priceChanged: { symbol: string; price: number } }>(
      url,
      `subscription { priceChanged(symbols: ["late"]) { symbol price } }`,
    );
    expect(
      await eventually(
        () => lastPrice(late.id),
        (price) => price === 2000,
        20_000,
      ),
    ).toBe(2000);
    expect(await metricTotal(fetcherMetrics, 'price_fetcher_stocks')).toBe(2);
    await watching.received(1);
    expect(watching.results[0]).toEqual({ data: { priceChanged: { symbol: 'late', price: 2000 } } });
    // Its next trade comes through the stream as the ingestor writes it.
    standIn.trade(late.id, 90110, 2010);
    await watching.received(2);
    expect(watching.results[1]).toEqual({ data: { priceChanged: { symbol: 'late', price: 2010 } } });
    await watching.dispose();
  });

  it('stops fetching a delisted stock, keeps its prices, and lists it no more', async () => {
    const { delistStock } = await expectData<{ delistStock: { id: string; delistedAt: string } }>(
      url,
      DELIST,
      { id: late.id },
      admin,
    );
    expect(delistStock.delistedAt).toEqual(expect.any(String));
    // Once the fetcher has heard of it, it asks no more for the stock, while it goes on with the others.
    await eventually(
      async () => {
        const before = callsFor(late.id);
        await new Promise((resolve) => setTimeout(resolve, FETCH_INTERVAL_MS * 3));
        return before === callsFor(late.id);
      },
      (stopped) => stopped,
      20_000,
    );
    const stoppedAt = callsFor(late.id);
    const earlyCalls = callsFor(early.id);
    standIn.trade(late.id, 90200, 2020);
    standIn.trade(early.id, 90200, 1020);
    expect(
      await eventually(
        () => lastPrice(early.id),
        (price) => price === 1020,
        20_000,
      ),
    ).toBe(1020);
    expect(callsFor(early.id)).toBeGreaterThan(earlyCalls);
    expect(callsFor(late.id)).toBe(stoppedAt);
    expect(await lastPrice(late.id)).toBe(2010);
    expect(await metricTotal(fetcherMetrics, 'price_fetcher_stocks')).toBe(1);

    const { stocks } = await expectData<{ stocks: Array<{ symbol: string }> }>(url, `{ stocks { symbol } }`);
    expect(stocks.map(({ symbol }) => symbol)).toEqual(['early']);
    // Delisting again changes nothing and announces nothing.
    const again = await expectData<{ delistStock: { delistedAt: string } }>(
      url,
      DELIST,
      { id: late.id },
      admin,
    );
    expect(again.delistStock.delistedAt).toBe(delistStock.delistedAt);
  });

  it('announces each change once on the listings topic, in version order per stock', async () => {
    const events = await eventually(
      async () => announced.map(({ type, symbol, version }) => ({ type, symbol, version })),
      (list) => list.length >= 3,
      10_000,
    );
    expect(events.sort((a, b) => a.version - b.version)).toEqual([
      { type: 'listed', symbol: 'early', version: 1 },
      { type: 'listed', symbol: 'late', version: 2 },
      { type: 'delisted', symbol: 'late', version: 3 },
    ]);
  });

  it('refuses delisting to anyone but an admin, and an unknown stock with STOCK_NOT_FOUND', async () => {
    expect(await errorCodes(url, DELIST, { id: early.id })).toEqual(['UNAUTHENTICATED']);
    expect(await errorCodes(url, DELIST, { id: early.id }, await asUser('1'))).toEqual(['FORBIDDEN']);
    expect(await errorCodes(url, DELIST, { id: '999' }, admin)).toEqual(['STOCK_NOT_FOUND']);
    expect(await errorCodes(url, DELIST, { id: 'x' }, admin)).toEqual(['BAD_USER_INPUT']);
    expect(await lastPrice(early.id)).toBe(1020);
  });

  it('gives the list and its version to the price fetcher only, and not through the public API', async () => {
    const query = '{ stockListings { version stocks { id symbol version } } }';
    expect(await errorCodes(url, query, {}, admin)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    const asService = async (service: string) =>
      graphql<{ stockListings: unknown }>(
        stack.stocksUrl,
        query,
        {},
        {
          [CALLER_TOKEN_HEADER]: await new InternalTokens(
            DEVELOPMENT_INTERNAL_AUTH_SECRET,
            service,
          ).signAsService(),
        },
      );
    expect((await asService('orders')).errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
    expect((await asService('price-fetcher')).data).toEqual({
      stockListings: { version: 3, stocks: [{ id: early.id, symbol: 'early', version: 1 }] },
    });
  });

  it('lists a delisted stock again: announced once, fetched and listed again, its symbol still taken', async () => {
    expect(await errorCodes(url, RELIST, { id: late.id }, await asUser('1'))).toEqual(['FORBIDDEN']);
    expect(await errorCodes(url, RELIST, { id: '999' }, admin)).toEqual(['STOCK_NOT_FOUND']);
    // createStock does not revive a delisted stock: its id and symbol stay taken.
    expect(await errorCodes(url, CREATE, { input: { ...late, id: '123' } }, admin)).toEqual(['STOCK_EXISTS']);
    const stoppedAt = callsFor(late.id);
    const { relistStock } = await expectData<{ relistStock: Record<string, unknown> }>(
      url,
      RELIST,
      { id: late.id },
      admin,
    );
    expect(relistStock).toEqual({ id: late.id, symbol: late.symbol, name: late.name, delistedAt: null });
    standIn.trade(late.id, 90300, 2030);
    expect(
      await eventually(
        () => lastPrice(late.id),
        (price) => price === 2030,
        20_000,
      ),
    ).toBe(2030);
    expect(callsFor(late.id)).toBeGreaterThan(stoppedAt);
    expect(await metricTotal(fetcherMetrics, 'price_fetcher_stocks')).toBe(2);
    const { stocks } = await expectData<{ stocks: Array<{ symbol: string }> }>(url, `{ stocks { symbol } }`);
    expect(stocks.map(({ symbol }) => symbol)).toEqual(['early', 'late']);
    // Listing a listed stock again changes nothing and announces nothing.
    await expectData(url, RELIST, { id: late.id }, admin);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const events = announced.map(({ type, symbol, version }) => ({ type, symbol, version }));
    expect(events.sort((a, b) => a.version - b.version)).toEqual([
      { type: 'listed', symbol: 'early', version: 1 },
      { type: 'listed', symbol: 'late', version: 2 },
      { type: 'delisted', symbol: 'late', version: 3 },
      { type: 'listed', symbol: 'late', version: 4 },
    ]);
  });
});
