import type { StockListingEvent } from '@brokerage/stocks-contract';
import { StockList } from '../src/stock-list';

const event = (type: StockListingEvent['type'], stockId: string, version: number): StockListingEvent => ({
  type,
  stockId,
  symbol: `s${stockId}`,
  version,
  at: '2026-12-03T10:00:00.000Z',
});

describe('the fetcher list of stocks', () => {
  it('starts from the snapshot and ignores announcements the snapshot already holds', () => {
    const list = new StockList();
    list.reset({ version: 5, stocks: [{ id: '1', symbol: 's1', version: 5 }] });
    // Read from the start of the topic: the listing and a delisting of 2 before the snapshot.
    expect(list.apply(event('listed', '1', 1))).toBe(false);
    expect(list.apply(event('listed', '2', 2))).toBe(false);
    expect(list.apply(event('delisted', '1', 3))).toBe(false);
    expect(list.current()).toEqual([{ id: '1', symbol: 's1' }]);
  });

  it('follows later listings and delistings, and a repeat or an older one changes nothing', () => {
    const list = new StockList();
    list.reset({ version: 5, stocks: [{ id: '1', symbol: 's1', version: 5 }] });
    expect(list.apply(event('listed', '2', 6))).toBe(true);
    expect(list.apply(event('delisted', '1', 7))).toBe(true);
    expect(list.current()).toEqual([{ id: '2', symbol: 's2' }]);
    expect(list.apply(event('listed', '2', 6))).toBe(false);
    expect(list.apply(event('listed', '1', 6))).toBe(false);
    expect(list.current()).toEqual([{ id: '2', symbol: 's2' }]);
  });

  it('holds a fixed list when it follows no one', () => {
    expect(new StockList([{ id: '9', symbol: 's9' }]).current()).toEqual([{ id: '9', symbol: 's9' }]);
  });
});
