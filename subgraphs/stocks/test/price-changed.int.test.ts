import { createRedis, type Redis } from '@brokerage/redis';
import { createLogger } from '@brokerage/service';
import { type PriceQuote } from '@brokerage/price-fetcher-contract';
import { asAdmin } from '../../../test/support/auth';
import { expectData } from '../../../test/support/graphql';
import { startPlatformStack, type PlatformStack } from '../../../test/support/platform-stack';
import { eventually } from '../../../test/support/price-series';
import { testRedisUrl } from '../../../test/support/services';
import { subscribe, type Subscription } from '../../../test/support/subscriptions';
import { MinuteSeriesStore } from '../../../workers/price-ingestor/src/minute-series-store';

interface Point {
  symbol: string;
  price: number;
  at: string;
}
type Watched = { priceChanged: Point };

const WATCH = `subscription ($symbols: [String!]!) { priceChanged(symbols: $symbols) { symbol price at } }`;
const DATE = '20261121';
// 09:00 in Tehran (UTC+03:30) on 2026-11-21.
const at = (hhmm: string) =>
  new Date(Date.UTC(2026, 10, 21, Number(hhmm.slice(0, 2)) - 3, Number(hhmm.slice(2, 4)) - 30)).toISOString();

describe('priceChanged subscription through the gateway', () => {
  let stack: PlatformStack;
  let url: string;
  let raw: Redis;
  let series: Redis;
  /** The ingestor's own writer, announcing on the stack's channels as the ingestor does. */
  let store: MinuteSeriesStore;
  const stocks = [
    { id: '44891482026867833', symbol: 'stock1' },
    { id: '35425587644337450', symbol: 'stock2' },
    { id: '65883838195688438', symbol: 'stock3' },
    { id: '11111111111111111', symbol: 'quiet' },
  ];
  const open: Array<Subscription<Watched>> = [];
  let seq = 0;
  const quote = (symbol: string, time: string, price: number): PriceQuote => ({
    stockId: stocks.find((stock) => stock.symbol === symbol)!.id,
    symbol,
    date: DATE,
    time,
    seq: (seq += 1),
    price,
  });
  const watch = (symbols: string[]) => {
    const subscription = subscribe<Watched>(url, WATCH, { symbols });
    open.push(subscription);
    return subscription;
  };
  const points = (subscription: Subscription<Watched>) =>
    subscription.results.map((result) => result.data?.priceChanged);

  beforeAll(async () => {
    stack = await startPlatformStack();
    url = stack.gatewayUrl;
    const admin = await asAdmin();
    for (const { id, symbol } of stocks) {
      await expectData(
        url,
        `mutation ($input: CreateStockInput!) { createStock(input: $input) { id } }`,
        { input: { id, symbol, name: symbol } },
        admin,
      );
    }
    const logger = createLogger({ service: 't', level: 'silent' });
    series = createRedis({ url: testRedisUrl, keyPrefix: stack.pricesKeyPrefix, logger });
    store = new MinuteSeriesStore(series, { pointsChannelPrefix: stack.pricePointsChannelPrefix });
    raw = createRedis({ url: testRedisUrl, keyPrefix: '', logger });
    await store.apply([
      quote('stock1', '090005', 100),
      quote('stock2', '090010', 200),
      quote('stock3', '090020', 300),
    ]);
  });

  afterAll(async () => {
    await Promise.all(open.map((subscription) => subscription.dispose()));
    raw.disconnect();
    series.disconnect();
    await stack.stop();
  });

  it('sends the latest point of each stock first, then every new minute point as it is written', async () => {
    const watching = watch(['STOCK1', 'stock2', 'quiet']);
    await watching.received(2);
    expect(points(watching)).toEqual([
      { symbol: 'stock1', price: 100, at: at('0900') },
      { symbol: 'stock2', price: 200, at: at('0900') },
    ]);
    // A later trade in the same minute changes its point; a new minute adds one; a stock with no
    // trade yet starts with its first; a stock not watched is not sent.
    await store.apply([quote('stock1', '090030', 101)]);
    await watching.received(3);
    await store.apply([
      quote('stock3', '090100', 301),
      quote('quiet', '090105', 50),
      quote('stock2', '090110', 201),
    ]);
    await watching.received(5);
    expect(points(watching).slice(2)).toEqual([
      { symbol: 'stock1', price: 101, at: at('0900') },
      { symbol: 'quiet', price: 50, at: at('0901') },
      { symbol: 'stock2', price: 201, at: at('0901') },
    ]);
  });

  it('sends nothing for a trade that does not change the series', async () => {
    const watching = watch(['stock1']);
    await watching.received(1);
    expect(points(watching)).toEqual([{ symbol: 'stock1', price: 101, at: at('0900') }]);
    // An earlier trade of a minute already written (a replay) changes nothing and is not announced.
    await store.apply([{ ...quote('stock1', '090001', 999), seq: 0 }]);
    await store.apply([quote('stock1', '090200', 102)]);
    await watching.received(2);
    expect(points(watching)).toEqual([
      { symbol: 'stock1', price: 101, at: at('0900') },
      { symbol: 'stock1', price: 102, at: at('0902') },
    ]);
  });

  it('holds one Redis subscription per stock however many clients watch it, and none once they leave', async () => {
    const channels = ['stock1', 'stock2', 'stock3'].map(
      (symbol) => `${stack.pricePointsChannelPrefix}${symbol}`,
    );
    const clients = Array.from({ length: 50 }, () =>
      subscribe<Watched>(url, WATCH, { symbols: ['stock1', 'stock2', 'stock3'] }),
    );
    await Promise.all(clients.map((client) => client.received(3)));
    for (const channel of channels) expect(await raw.pubsub('NUMSUB', channel)).toEqual([channel, 1]);
    await store.apply([quote('stock3', '090300', 303)]);
    await Promise.all(clients.map((client) => client.received(4)));
    for (const client of clients)
      expect(client.results[3]?.data?.priceChanged).toEqual({ symbol: 'stock3', price: 303, at: at('0903') });

    // Half of them leave: the others still hear every point.
    await Promise.all(clients.slice(0, 25).map((client) => client.dispose()));
    await store.apply([quote('stock3', '090400', 304)]);
    await Promise.all(clients.slice(25).map((client) => client.received(5)));
    for (const channel of channels) expect(await raw.pubsub('NUMSUB', channel)).toEqual([channel, 1]);

    await Promise.all(clients.slice(25).map((client) => client.dispose()));
    const stock3 = channels[2]!;
    // stock1 is still watched by the earlier tests' clients; stock3 by no one now.
    expect(
      await eventually(
        () => raw.pubsub('NUMSUB', stock3),
        (value) => value[1] === 0,
        10_000,
      ),
    ).toEqual([stock3, 0]);
    expect(await raw.pubsub('NUMSUB', channels[0]!)).toEqual([channels[0], 1]);
  });

  it('answers the client selection: aliases and __typename', async () => {
    const watching = subscribe<{ p: { __typename: string; cost: number } }>(
      url,
      `subscription { p: priceChanged(symbols: ["stock2"]) { __typename cost: price } }`,
    );
    await watching.received(1);
    expect(watching.results[0]).toEqual({ data: { p: { __typename: 'PricePoint', cost: 201 } } });
    await watching.dispose();
  });

  it.each([
    ['more than 50 symbols', Array.from({ length: 51 }, (_, index) => `s${index}`), 'TOO_MANY_SYMBOLS'],
    ['a symbol no stock has', ['stock1', 'nosuchstock'], 'STOCK_NOT_FOUND'],
    ['a malformed symbol', ['no spaces'], 'BAD_USER_INPUT'],
    ['no symbol', [], 'BAD_USER_INPUT'],
  ])('refuses %s with its code and ends the stream', async (_case, symbols, code) => {
    const watching = subscribe<Watched>(url, WATCH, { symbols });
    await watching.completed;
    expect(watching.results.map((result) => result.errors?.map((error) => error.extensions?.code))).toEqual([
      [code],
    ]);
  });
});
