import { CsvReplaySource, type ReplayOptions } from '../src/sources/csv-replay-source';
import { readPriceCsv } from '../src/sources/price-csv';
import { priceCsvPath } from '../../../test/support/price-series';

describe('CSV replay source', () => {
  const trades = readPriceCsv(priceCsvPath);
  const stock = { id: '44891482026867833', symbol: 'stock1' };
  const oneDay = (realNow?: () => number): ReplayOptions => ({
    speed: 60,
    days: 1,
    closedWeekdays: [],
    backfillDays: 7,
    ...(realNow ? { realNow } : {}),
  });

  it('reads the sample: three stocks from 09:00:00 to 09:59:47', () => {
    expect(new Set(trades.map(({ symbol }) => symbol))).toEqual(new Set(['Stock1', 'Stock2', 'Stock3']));
    expect(trades[0]!.time).toBe('090000');
    expect(trades.at(-1)!.time).toBe('095947');
  });

  it('runs its clock from the first minute at the replay speed, from the persisted start', async () => {
    let realNow = 1_000_000;
    const source = new CsvReplaySource(
      trades,
      { date: '20261121', startedAtMs: 1_000_000 },
      oneDay(() => realNow),
    );
    expect(await source.now()).toEqual({ date: '20261121', time: '090000' });
    realNow += 2_500; // 2.5 s at 60x is 150 s of trading
    expect(await source.now()).toEqual({ date: '20261121', time: '090230' });
  });

  it('returns the trades of a window in order, and none of another day', async () => {
    const source = new CsvReplaySource(trades, { date: '20261121', startedAtMs: 0 }, oneDay());
    const window = source.trades(stock, '20261121', '090100', '090300');
    expect(window.length).toBeGreaterThan(0);
    expect(
      window.every(({ time, symbol }) => time >= '090100' && time < '090300' && symbol === 'stock1'),
    ).toBe(true);
    expect(window.map(({ time }) => time)).toEqual([...window.map(({ time }) => time)].sort());
    expect(source.trades(stock, '20261122', undefined, '235959')).toEqual([]);
  });

  it('fetches the minutes ended since the checkpoint, and nothing again until the next minute ends', async () => {
    let realNow = 0;
    const source = new CsvReplaySource(
      trades,
      { date: '20261121', startedAtMs: 0 },
      oneDay(() => realNow),
    );
    realNow = 2_500; // 09:02:30 on the replay's clock
    const first = await source.fetch(stock, undefined);
    expect(first.checkpoint).toEqual({ date: '20261121', until: '090200' });
    expect(first.messages.every((message) => 'quote' in message && message.quote.time < '090200')).toBe(true);
    expect((await source.fetch(stock, first.checkpoint)).messages).toEqual([]);
    realNow = 3_500; // 09:03:30
    const next = await source.fetch(stock, first.checkpoint);
    expect(next.checkpoint).toEqual({ date: '20261121', until: '090300' });
    expect(
      next.messages.every(
        (message) => 'quote' in message && message.quote.time >= '090200' && message.quote.time < '090300',
      ),
    ).toBe(true);
  });

  // At 60x a replayed day lasts 1,440 s; the first day's clock starts at 09:00.
  const at = (day: number, hhmm: string) =>
    ((day * 24 * 60 + Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(2, 4)) - 9 * 60) * 60 * 1000) / 60;

  it('runs its clock through midnight into the next days', async () => {
    let realNow = at(0, '2350');
    const source = new CsvReplaySource(
      trades,
      { date: '20261121', startedAtMs: 0 },
      oneDay(() => realNow),
    );
    expect(await source.now()).toEqual({ date: '20261121', time: '235000' });
    realNow = at(1, '0020');
    expect(await source.now()).toEqual({ date: '20261122', time: '002000' });
    realNow = at(40, '0900');
    expect(await source.now()).toEqual({ date: '20261231', time: '090000' });
  });

  it('catches up a checkpoint of an earlier day a day at a time, none from a day without a session', async () => {
    let realNow = at(0, '0930');
    // Saturday 2026-11-21 to Tuesday; Monday closed.
    const source = new CsvReplaySource(
      trades,
      { date: '20261121', startedAtMs: 0 },
      { speed: 60, days: 4, closedWeekdays: ['mon'], backfillDays: 7, realNow: () => realNow },
    );
    const first = await source.fetch(stock, undefined);
    expect(first.checkpoint).toEqual({ date: '20261121', until: '093000' });
    realNow = at(3, '0920'); // down from Saturday 09:30 to Tuesday 09:20
    const days: Array<{ dates: string[]; count: number; checkpoint: unknown; behind?: boolean }> = [];
    let checkpoint = first.checkpoint;
    for (let fetches = 0; fetches < 8; fetches += 1) {
      const fetched = await source.fetch(stock, checkpoint);
      const quotes = fetched.messages.flatMap((message) => ('quote' in message ? [message.quote] : []));
      days.push({
        dates: [...new Set(quotes.map(({ date }) => date))],
        count: quotes.length,
        checkpoint: fetched.checkpoint,
        ...(fetched.behind ? { behind: true } : {}),
      });
      checkpoint = fetched.checkpoint;
      if (!fetched.behind) break;
    }
    const perDay = (from: string, until?: string) => source.trades(stock, '20261121', from, until).length;
    expect(days).toEqual([
      {
        dates: ['20261121'],
        count: perDay('093000'),
        checkpoint: { date: '20261122', until: '000000' },
        behind: true,
      },
      {
        dates: ['20261122'],
        count: perDay('000000'),
        checkpoint: { date: '20261123', until: '000000' },
        behind: true,
      },
      { dates: [], count: 0, checkpoint: { date: '20261124', until: '000000' }, behind: true },
      {
        dates: ['20261124'],
        count: perDay('000000', '092000'),
        checkpoint: { date: '20261124', until: '092000' },
      },
    ]);
    expect(perDay('093000')).toBeGreaterThan(0);
    expect(source.isSession('20261123')).toBe(false);
    expect(source.isSession('20261125')).toBe(false);
  });

  it('passes over the days before the look-back, saying which', async () => {
    const realNow = at(20, '1000');
    const source = new CsvReplaySource(
      trades,
      { date: '20261121', startedAtMs: 0 },
      { speed: 60, days: 30, closedWeekdays: [], backfillDays: 2, realNow: () => realNow },
    );
    const fetched = await source.fetch(stock, { date: '20261122', until: '091000' });
    expect(fetched).toMatchObject({
      checkpoint: { date: '20261210', until: '000000' },
      behind: true,
      skipped: { from: '20261122', to: '20261208' },
    });
    expect(fetched.messages.every((message) => 'quote' in message && message.quote.date === '20261209')).toBe(
      true,
    );
    expect(fetched.messages.length).toBe(source.trades(stock, '20261209').length);
  });

  it('rejects a malformed file with the line at fault', () => {
    expect(() => readPriceCsv(__filename)).toThrow(/expected the header/);
  });
});
