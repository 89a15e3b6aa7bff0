import { toExchangeMoment } from '@brokerage/price-fetcher-contract';
import { eventually } from '../../../test/support/price-series';
import { startFetcherPipeline, tsetmcSourceEnv, type FetcherPipeline } from './fetcher-pipeline';
import { startTsetmcStandIn, type TsetmcStandIn } from './tsetmc-fixture-server';

// The fetcher, the real broker, the ingestor and Redis against the TSETMC stand-in, driven through
// each way the real service misbehaves. After each step the Redis series must equal the minute-wise
// last price of the non-cancelled trades of the right session, and no trade may be published twice.

const today = toExchangeMoment(new Date(), 'Asia/Tehran').date;
const lastSession = toExchangeMoment(new Date(Date.now() - 86_400_000), 'Asia/Tehran').date;

describe('price fetcher with the TSETMC source, into Redis', () => {
  const stock = { id: '44891482026867833', symbol: 'goodstock' };
  let standIn: TsetmcStandIn;
  let pipeline: FetcherPipeline;

  beforeAll(async () => {
    standIn = await startTsetmcStandIn(today);
    // Throughout: a browser's User-Agent required, and every row listed twice.
    standIn.behaviours.browserUserAgentOnly = true;
    standIn.behaviours.duplicateRows = true;
    // A day without a session, whose feed shows the last session's trades, one of them cancelled.
    standIn.behaviours.holiday = true;
    standIn.trade(stock.id, 90005, 1000, lastSession);
    standIn.trade(stock.id, 90040, 1010, lastSession);
    standIn.trade(stock.id, 90130, 1020, lastSession);
    standIn.cancel(stock.id, 2, 90200, lastSession);
    pipeline = await startFetcherPipeline(
      { ...tsetmcSourceEnv(standIn.url, stock), FETCH_INTERVAL_MS: '150' },
      Date.now(),
    );
  }, 60_000);

  afterAll(async () => {
    await pipeline.stop();
    await standIn.stop();
  });

  const series = (date: string) => pipeline.series(stock.symbol, date);
  async function expectSeries(date: string) {
    const expected = standIn.expectedSeries(stock.id, date);
    expect(
      await eventually(
        () => series(date),
        (actual) => JSON.stringify(actual) === JSON.stringify(expected),
        20_000,
      ),
    ).toEqual(expected);
  }
  const moreCycles = () => standIn.moreCalls();
  const published = () => pipeline.published;
  const trades = (date: string) =>
    pipeline.published.filter((message) => message.kind === 'trade' && message.date === date);

  it('on a day without a session publishes the last session under its own date, and nothing under today', async () => {
    await expectSeries(lastSession);
    await moreCycles();
    expect(await series(today)).toBeNull();
    expect(trades(lastSession).map(({ seq }) => seq)).toEqual([1, 3]);
    expect(published().every(({ date }) => date === lastSession)).toBe(true);
  });

  it('publishes a session listed late, by bad servers and twice, each trade once', async () => {
    standIn.behaviours.holiday = false;
    standIn.behaviours.lagRows = 2;
    standIn.useBackends(['error', 'empty', 'good']);
    [90005, 90030, 90055, 90115, 90140, 90205, 90230, 90255].forEach((hEven, n) =>
      standIn.trade(stock.id, hEven, 2000 + n),
    );
    await eventually(
      async () => trades(today).length,
      (count) => count >= 6,
      20_000,
    );
    expect(trades(today).map(({ seq }) => seq)).toEqual([1, 2, 3, 4, 5, 6]);
    standIn.behaviours.lagRows = 0;
    await expectSeries(today);
    standIn.trade(stock.id, 90300, 2100);
    await expectSeries(today);
    await moreCycles();
    expect(trades(today).map(({ seq }) => seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(standIn.calls.some(({ backend }) => backend === 'error')).toBe(true);
    expect(standIn.calls.some(({ backend }) => backend === 'empty')).toBe(true);
  });

  it('takes back a cancelled trade that was published: its minute is recomputed in Redis', async () => {
    // 09:01:15 (#4) and 09:01:40 (#5) share a minute; #5 set it, #9 alone set 09:03.
    expect((await series(today))?.price).toEqual([2002, 2004, 2007, 2100]);
    standIn.cancel(stock.id, 5, 91000);
    standIn.cancel(stock.id, 9, 91000);
    await expectSeries(today);
    expect((await series(today))?.price).toEqual([2002, 2003, 2007]);
    expect(await pipeline.latest(stock.symbol)).toEqual(await series(today));
    await moreCycles();
    const cancellations = published().filter(({ kind }) => kind === 'cancellation');
    expect(cancellations.map(({ date, seq }) => `${date}#${seq}`)).toEqual([
      `${lastSession}#2`,
      `${today}#5`,
      `${today}#9`,
    ]);
    expect(trades(today)).toHaveLength(9);
  });
});
