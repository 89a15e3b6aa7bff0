import { createLogger, toExchangeMoment } from '@brokerage/common';
import { MalformedAnswerError, TsetmcSource } from '../src/sources/tsetmc-source';
import { startTsetmcFixture, tsetmcTrade, type FixtureAnswer } from './tsetmc-fixture-server';

const stock = { id: '44891482026867833', symbol: 'stock1' };
const today = toExchangeMoment(new Date(), 'Asia/Tehran').date;
const todayPath = `/api/Trade/GetTrade/${stock.id}`;

async function withSource(
  answers: FixtureAnswer[],
  run: (source: TsetmcSource, calls: string[]) => Promise<void>,
) {
  const fixture = await startTsetmcFixture({
    [todayPath]: answers,
    [`/api/Trade/GetTradeHistory/${stock.id}/20240101/false`]: answers,
  });
  const source = new TsetmcSource(
    {
      baseUrl: fixture.url,
      timeoutMs: 300,
      retries: 2,
      backoffMs: 10,
      timeZone: 'Asia/Tehran',
      logger: createLogger({ service: 't', level: 'silent' }),
    },
    [stock],
  );
  try {
    await run(source, fixture.calls);
  } finally {
    await fixture.stop();
  }
}

const trades = {
  trade: [
    tsetmcTrade(1, 90016, 15580.0),
    tsetmcTrade(2, 90016, 15590.0),
    tsetmcTrade(3, 90105, 15600.0, 1),
    tsetmcTrade(4, 90230, 15610.0),
  ],
};

describe('TSETMC price source', () => {
  it("parses today's trades in the exchange's format, drops cancelled ones and keeps the window", async () => {
    await withSource([{ kind: 'json', body: trades }], async (source) => {
      expect(await source.trades(stock, today, undefined, '090200')).toEqual([
        { stockId: stock.id, symbol: 'stock1', date: today, time: '090016', seq: 1, price: 15580 },
        { stockId: stock.id, symbol: 'stock1', date: today, time: '090016', seq: 2, price: 15590 },
      ]);
      expect((await source.trades(stock, today, '090200', '090300')).map(({ seq }) => seq)).toEqual([4]);
    });
  });

  it('reads a past day from the trade history endpoint', async () => {
    await withSource([{ kind: 'json', body: { tradeHistory: trades.trade } }], async (source, calls) => {
      expect(await source.trades(stock, '20240101', undefined, '235959')).toHaveLength(3);
      expect(calls).toEqual([`/api/Trade/GetTradeHistory/${stock.id}/20240101/false`]);
    });
  });

  it('retries failing and slow answers with backoff, then succeeds', async () => {
    const answers: FixtureAnswer[] = [
      { kind: 'status', status: 503 },
      { kind: 'json', body: trades, delayMs: 1_000 },
      { kind: 'json', body: trades },
    ];
    await withSource(answers, async (source, calls) => {
      expect(await source.trades(stock, today, undefined, '090100')).toHaveLength(2);
      expect(calls).toHaveLength(3);
    });
  });

  it('gives up after the configured retries', async () => {
    await withSource([{ kind: 'status', status: 500 }], async (source, calls) => {
      await expect(source.trades(stock, today, undefined, '090100')).rejects.toThrow(
        /no answer after 3 attempts/,
      );
      expect(calls).toHaveLength(3);
    });
  });

  it.each<[string, FixtureAnswer]>([
    ['an HTML error page', { kind: 'raw', body: '<html>maintenance</html>' }],
    ['a missing trade list', { kind: 'json', body: { closingPriceInfo: {} } }],
    ['a non-integer price', { kind: 'json', body: { trade: [tsetmcTrade(1, 90016, 155.5)] } }],
    ['an impossible time', { kind: 'json', body: { trade: [tsetmcTrade(1, 96116, 100)] } }],
    ['a negative price', { kind: 'json', body: { trade: [tsetmcTrade(1, 90016, -5)] } }],
  ])('rejects %s as malformed, without retrying', async (_case, answer) => {
    await withSource([answer], async (source, calls) => {
      await expect(source.trades(stock, today, undefined, '235959')).rejects.toBeInstanceOf(
        MalformedAnswerError,
      );
      expect(calls).toHaveLength(1);
    });
  });
});
