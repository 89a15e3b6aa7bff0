import { CsvReplaySource } from '../src/sources/csv-replay-source';
import { readPriceCsv } from '../src/sources/price-csv';
import { priceCsvPath } from '../../../test/support/price-series';

describe('CSV replay source', () => {
  const trades = readPriceCsv(priceCsvPath);
  const stock = { id: '44891482026867833', symbol: 'stock1' };

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
      60,
      () => realNow,
    );
    expect(await source.now()).toEqual({ date: '20261121', time: '090000' });
    realNow += 2_500; // 2.5 s at 60x is 150 s of trading
    expect(await source.now()).toEqual({ date: '20261121', time: '090230' });
  });

  it('returns the trades of a window in order, and none of another day', async () => {
    const source = new CsvReplaySource(trades, { date: '20261121', startedAtMs: 0 }, 60);
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
    const source = new CsvReplaySource(trades, { date: '20261121', startedAtMs: 0 }, 60, () => realNow);
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

  it('rejects a malformed file with the line at fault', () => {
    expect(() => readPriceCsv(__filename)).toThrow(/expected the header/);
  });
});
