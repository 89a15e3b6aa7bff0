import { eventually, expectedSeriesFromCsv, quotesFromCsv } from '../../../test/support/price-series';
import { inPublishedOrder, startFetcherPipeline, type FetcherPipeline } from './fetcher-pipeline';

// The CSV replay trades its file (09:00 to 09:59) on Saturday 2026-11-21 and the three days after,
// Monday closed. The fetcher is stopped mid-session, started again after midnight, stopped again
// mid-session, and started on Tuesday: afterwards every session day's series equals the file's,
// minute by minute, and every row of the file was published once per session day, in order.

const SPEED = 60;
/** The real time at which the replay's clock shows `hhmm` on its `day`-th day (from 0). */
const at = (day: number, hhmm: string) =>
  START_MS + ((day * 1440 + Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(2, 4)) - 540) * 60_000) / SPEED;
const START_MS = Date.UTC(2026, 10, 21, 5, 30);
const SESSIONS = ['20261121', '20261122', '20261124'];

describe('price fetcher with the CSV source, down across midnight', () => {
  let pipeline: FetcherPipeline;
  const expected = expectedSeriesFromCsv();
  const stocks = [...new Map(quotesFromCsv('x').map(({ stockId, symbol }) => [stockId, symbol]))];

  beforeAll(async () => {
    pipeline = await startFetcherPipeline(
      {
        PRICE_SOURCE: 'csv',
        REPLAY_SPEED: String(SPEED),
        REPLAY_DATE: SESSIONS[0]!,
        REPLAY_DAYS: '4',
        REPLAY_CLOSED_WEEKDAYS: 'mon',
      },
      START_MS,
    );
  }, 60_000);

  afterAll(async () => {
    await pipeline.stop();
  });

  /** Each stock's series on `date` equals the file's minutes before `until` (hhmmss). */
  async function expectSeriesUpTo(date: string, until = '240000') {
    for (const [, symbol] of stocks) {
      const full = expected.get(symbol)!;
      const minutes = full.time.filter((time) => time < until).length;
      const want = { time: full.time.slice(0, minutes), price: full.price.slice(0, minutes) };
      const actual = await eventually(
        () => pipeline.series(symbol, date),
        (series) => JSON.stringify(series) === JSON.stringify(want),
        20_000,
      );
      expect({ symbol, date, series: actual }).toEqual({ symbol, date, series: want });
    }
  }
  /** Lets a few more fetch cycles pass, so that a minute published twice would show. */
  const moreCycles = () => new Promise((resolve) => setTimeout(resolve, 1_000));

  it('publishes the rest of the day and nothing of the next after a stop at 09:30 and a start at 00:20', async () => {
    pipeline.clock.nowMs = at(0, '0930');
    await expectSeriesUpTo(SESSIONS[0]!, '093000');
    await pipeline.stopFetcher();
    pipeline.clock.nowMs = at(1, '0020');
    await pipeline.startFetcher();
    await expectSeriesUpTo(SESSIONS[0]!);
    await moreCycles();
    for (const [, symbol] of stocks) expect(await pipeline.series(symbol, SESSIONS[1]!)).toBeNull();
  });

  it('catches up a session missed, passes a closed day, and carries on live', async () => {
    pipeline.clock.nowMs = at(1, '0915');
    await expectSeriesUpTo(SESSIONS[1]!, '091500');
    await pipeline.stopFetcher();
    pipeline.clock.nowMs = at(3, '0920');
    const before = pipeline.published.length;
    await pipeline.startFetcher();
    await expectSeriesUpTo(SESSIONS[1]!);
    await expectSeriesUpTo(SESSIONS[2]!, '092000');
    // The catch-up publishes the rest of Sunday and Tuesday until 09:20, no more.
    const rows = quotesFromCsv('x');
    const missed =
      rows.filter(({ time }) => time >= '091500').length + rows.filter(({ time }) => time < '092000').length;
    await moreCycles();
    const caughtUp = await eventually(
      async () => pipeline.published.length - before,
      (count) => count >= missed,
      10_000,
    );
    expect(caughtUp).toBe(missed);
    pipeline.clock.nowMs = at(3, '2359');
    await expectSeriesUpTo(SESSIONS[2]!);
    await moreCycles();
    for (const [, symbol] of stocks) expect(await pipeline.series(symbol, '20261123')).toBeNull();
  });

  it('published every row of the file once per session day, and no other, each stock in order', () => {
    const want = new Map(
      SESSIONS.flatMap((date) => quotesFromCsv(date)).map(({ stockId, date, seq }) => [
        `${stockId} ${date} #${seq}`,
        1,
      ]),
    );
    expect(pipeline.counts('trade')).toEqual(want);
    for (const [stockId] of stocks) expect(inPublishedOrder(pipeline.published, stockId)).toBe(true);
  });
});
