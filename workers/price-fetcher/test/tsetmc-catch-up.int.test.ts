import { fromExchangeMoment } from '@brokerage/price-fetcher-contract';
import { eventually } from '../../../test/support/price-series';
import {
  inPublishedOrder,
  startFetcherPipeline,
  tsetmcSourceEnv,
  type FetcherPipeline,
} from './fetcher-pipeline';
import { startTsetmcStandIn, type TsetmcStandIn } from './tsetmc-fixture-server';

// The fetcher against the TSETMC stand-in, on a clock the test sets (Asia/Tehran). It is stopped on
// Saturday 2026-11-21 at 10:00, mid-session; Saturday's session goes on and takes back a trade it
// had published, Sunday holds a session, Monday is a holiday, Tuesday holds a session; it is
// started again on Wednesday at 00:20. Afterwards each session's Redis series equals the
// stand-in's, minute by minute, and every trade was published once.

const stock = { id: '44891482026867833', symbol: 'goodstock' };
const SATURDAY = '20261121';
const SUNDAY = '20261122';
const MONDAY = '20261123';
const TUESDAY = '20261124';
const WEDNESDAY = '20261125';
const THURSDAY = '20261126';
const tehran = (date: string, time: string) => fromExchangeMoment({ date, time }, 'Asia/Tehran').getTime();

describe('price fetcher with the TSETMC source, down across midnight', () => {
  let standIn: TsetmcStandIn;
  let pipeline: FetcherPipeline;

  beforeAll(async () => {
    standIn = await startTsetmcStandIn(SATURDAY);
    standIn.behaviours.duplicateRows = true;
    [90005, 90040, 90130, 91000, 93015].forEach((hEven, n) => standIn.trade(stock.id, hEven, 1000 + n));
    pipeline = await startFetcherPipeline(
      { ...tsetmcSourceEnv(standIn.url, stock) },
      tehran(SATURDAY, '100000'),
    );
  }, 60_000);

  afterAll(async () => {
    await pipeline.stop();
    await standIn.stop();
  });

  async function expectSeries(date: string) {
    const want = standIn.expectedSeries(stock.id, date);
    const actual = await eventually(
      () => pipeline.series(stock.symbol, date),
      (series) => JSON.stringify(series) === JSON.stringify(want),
      20_000,
    );
    expect({ date, series: actual }).toEqual({ date, series: want });
  }
  const moreCycles = () => standIn.moreCalls();
  const tradesOf = (date: string) =>
    pipeline.published.filter((message) => message.kind === 'trade' && message.date === date);

  it('catches up, after days down, the rest of a session, each session missed and none of a holiday', async () => {
    await expectSeries(SATURDAY);
    await pipeline.stopFetcher();
    const before = await eventually(
      async () => pipeline.published.length,
      (count) => count >= 5,
      10_000,
    );
    // While it is down: Saturday trades on and cancels trade 2 (published), the days go by.
    [100500, 113000, 122900].forEach((hEven, n) => standIn.trade(stock.id, hEven, 1100 + n));
    standIn.cancel(stock.id, 2, 110000);
    [90010, 100020, 120000].forEach((hEven, n) => standIn.trade(stock.id, hEven, 2000 + n, SUNDAY));
    [90500, 90530, 110000, 121500].forEach((hEven, n) => standIn.trade(stock.id, hEven, 4000 + n, TUESDAY));
    standIn.setToday(WEDNESDAY);
    standIn.behaviours.holiday = true; // Wednesday's session has not opened yet
    pipeline.clock.nowMs = tehran(WEDNESDAY, '002000');
    await pipeline.startFetcher();

    await expectSeries(SATURDAY);
    await expectSeries(SUNDAY);
    await expectSeries(TUESDAY);
    await moreCycles();
    expect(await pipeline.series(stock.symbol, MONDAY)).toBeNull();
    expect(await pipeline.series(stock.symbol, WEDNESDAY)).toBeNull();
    // Three trades and a take-back of Saturday, three of Sunday, four of Tuesday.
    expect(before).toBe(5);
    expect(pipeline.published.length - before).toBe(11);
    expect(tradesOf(SATURDAY).map(({ seq }) => seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(tradesOf(SUNDAY).map(({ seq }) => seq)).toEqual([1, 2, 3]);
    expect(tradesOf(TUESDAY).map(({ seq }) => seq)).toEqual([1, 2, 3, 4]);
    expect(
      pipeline.published
        .filter(({ kind }) => kind === 'cancellation')
        .map(({ date, seq }) => `${date}#${seq}`),
    ).toEqual([`${SATURDAY}#2`]);
    // Published in time order: Saturday's rest, Sunday, Tuesday.
    expect(inPublishedOrder(pipeline.published, stock.id)).toBe(true);
    expect(standIn.calls.some(({ path }) => path.endsWith(`/${MONDAY}/false`))).toBe(false);
  });

  it("carries on live with Wednesday's session, and a stop from 23:50 to 00:20 misses and doubles nothing", async () => {
    pipeline.clock.nowMs = tehran(WEDNESDAY, '091000');
    standIn.behaviours.holiday = false;
    [90020, 90510].forEach((hEven, n) => standIn.trade(stock.id, hEven, 5000 + n));
    await expectSeries(WEDNESDAY);
    pipeline.clock.nowMs = tehran(WEDNESDAY, '235000');
    standIn.trade(stock.id, 122500, 5100);
    await expectSeries(WEDNESDAY);
    await pipeline.stopFetcher();
    standIn.setToday(THURSDAY);
    standIn.behaviours.holiday = true; // Thursday: no session
    pipeline.clock.nowMs = tehran(THURSDAY, '002000');
    await pipeline.startFetcher();
    await moreCycles();
    await expectSeries(WEDNESDAY);
    expect(await pipeline.series(stock.symbol, THURSDAY)).toBeNull();
    expect(tradesOf(WEDNESDAY).map(({ seq }) => seq)).toEqual([1, 2, 3]);
    expect([...pipeline.counts('trade').values()].every((count) => count === 1)).toBe(true);
    expect(pipeline.counts('trade').size).toBe(8 + 3 + 4 + 3);
  });
});
