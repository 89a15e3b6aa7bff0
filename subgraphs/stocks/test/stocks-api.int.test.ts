import { createRedis, type Redis } from '@brokerage/redis';
import { createLogger } from '@brokerage/service';
import { asAdmin } from '../../../test/support/auth';
import { errorCodes, expectData } from '../../../test/support/graphql';
import { startPlatformStack, type PlatformStack } from '../../../test/support/platform-stack';
import { expectedSeriesFromCsv, quotesFromCsv } from '../../../test/support/price-series';
import { testRedisUrl } from '../../../test/support/services';
import { MinuteSeriesStore } from '../../../workers/price-ingestor/src/minute-series-store';

const STOCK = `id symbol name lastPrice lastPriceAt`;
const CREATE = `mutation ($input: CreateStockInput!) { createStock(input: $input) { ${STOCK} } }`;

describe('stocks through the gateway', () => {
  let stack: PlatformStack;
  let url: string;
  let redis: Redis;
  // Only admins list stocks.
  let admin: Record<string, string>;

  beforeAll(async () => {
    stack = await startPlatformStack();
    url = stack.gatewayUrl;
    admin = await asAdmin();
    redis = createRedis({
      url: testRedisUrl,
      keyPrefix: stack.pricesKeyPrefix,
      logger: createLogger({ service: 't', level: 'silent' }),
    });
    for (const [index, id] of ['44891482026867833', '35425587644337450', '65883838195688438'].entries()) {
      await expectData(
        url,
        CREATE,
        { input: { id, symbol: `Stock${index + 1}`, name: `Stock number ${index + 1}` } },
        admin,
      );
    }
  });

  afterAll(async () => {
    redis.disconnect();
    await stack.stop();
  });

  it('lists stocks with ids beyond 2^53 kept exactly, as strings, and symbols in lower case', async () => {
    const { stocks } = await expectData<{ stocks: Array<{ id: string; symbol: string }> }>(
      url,
      `{ stocks { id symbol } }`,
    );
    expect(stocks).toEqual([
      { id: '44891482026867833', symbol: 'stock1' },
      { id: '35425587644337450', symbol: 'stock2' },
      { id: '65883838195688438', symbol: 'stock3' },
    ]);
    const { stockBySymbol } = await expectData<{ stockBySymbol: { id: string } }>(
      url,
      `{ stockBySymbol(symbol: "STOCK1") { id } }`,
    );
    expect(stockBySymbol.id).toBe('44891482026867833');
    const { stock } = await expectData<{ stock: { name: string } | null }>(
      url,
      `{ stock(id: "65883838195688438") { name } }`,
    );
    expect(stock).toEqual({ name: 'Stock number 3' });
    expect(await expectData(url, `{ stock(id: "1") { id } }`)).toEqual({ stock: null });
  });

  it('refuses a second stock with the same id or symbol with STOCK_EXISTS', async () => {
    expect(
      await errorCodes(
        url,
        CREATE,
        { input: { id: '44891482026867833', symbol: 'other', name: 'x' } },
        admin,
      ),
    ).toEqual(['STOCK_EXISTS']);
    expect(
      await errorCodes(url, CREATE, { input: { id: '123', symbol: 'STOCK2', name: 'x' } }, admin),
    ).toEqual(['STOCK_EXISTS']);
    const { stocks } = await expectData<{ stocks: unknown[] }>(url, `{ stocks { id } }`);
    expect(stocks).toHaveLength(3);
  });

  it.each([
    ['a non-numeric id', { id: 'abc', symbol: 's1', name: 'n' }],
    ['an id over 20 digits', { id: '1'.repeat(21), symbol: 's1', name: 'n' }],
    ['a symbol with spaces', { id: '7', symbol: 'a b', name: 'n' }],
    ['an empty name', { id: '7', symbol: 's7', name: '  ' }],
  ])('rejects %s with BAD_USER_INPUT', async (_case, input) => {
    expect(await errorCodes(url, CREATE, { input }, admin)).toEqual(['BAD_USER_INPUT']);
  });

  it('has no price before the first trade', async () => {
    const { stock } = await expectData<{ stock: unknown }>(
      url,
      `{ stock(id: "35425587644337450") { lastPrice lastPriceAt priceHistory { time price } } }`,
    );
    expect(stock).toEqual({ lastPrice: null, lastPriceAt: null, priceHistory: { time: [], price: [] } });
  });

  it('serves the last price, its minute, and the minute series of the latest or a given day', async () => {
    const store = new MinuteSeriesStore(redis);
    await store.apply(quotesFromCsv('20261120').filter(({ time }) => time < '093000'));
    await store.apply(quotesFromCsv('20261121'));
    const expected = expectedSeriesFromCsv().get('stock1')!;

    const { stockBySymbol } = await expectData<{
      stockBySymbol: {
        lastPrice: number;
        lastPriceAt: string;
        priceHistory: { time: string[]; price: number[] };
      };
    }>(url, `{ stockBySymbol(symbol: "stock1") { lastPrice lastPriceAt priceHistory { time price } } }`);
    expect(stockBySymbol.priceHistory).toEqual(expected);
    expect(stockBySymbol.lastPrice).toBe(expected.price.at(-1));
    // 09:59 in Tehran (UTC+03:30) on 2026-11-21.
    expect(stockBySymbol.lastPriceAt).toBe('2026-11-21T06:29:00.000Z');

    const older = await expectData<{ stock: { priceHistory: { time: string[] } } }>(
      url,
      `query ($date: Date) { stock(id: "44891482026867833") { priceHistory(date: $date) { time } } }`,
      { date: '2026-11-20' },
    );
    expect(older.stock.priceHistory.time.at(-1)).toBe('092900');
    const none = await expectData<{ stock: { priceHistory: { time: string[] } } }>(
      url,
      `query ($date: Date) { stock(id: "44891482026867833") { priceHistory(date: $date) { time } } }`,
      { date: '2020-01-01' },
    );
    expect(none.stock.priceHistory.time).toEqual([]);
  });

  it('rejects a malformed date with BAD_USER_INPUT', async () => {
    expect(
      await errorCodes(
        url,
        `query ($date: Date) { stock(id: "44891482026867833") { priceHistory(date: $date) { time } } }`,
        {
          date: '2026-13-45',
        },
      ),
    ).toEqual(['BAD_USER_INPUT']);
  });
});
