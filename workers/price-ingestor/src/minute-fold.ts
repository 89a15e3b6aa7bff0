import type { PriceQuote } from '@brokerage/price-fetcher-contract';

/** The latest trade of one minute so far. Times are `hhmmss` as numbers, which compare the same. */
export interface MinuteTrade {
  time: number;
  seq: number;
  price: number;
}

/** One stock-day's minutes (keyed by `hhmm` as a number) and the latest trade in each. */
export interface StockDayMinutes {
  symbol: string;
  date: string;
  minutes: Map<number, MinuteTrade>;
}

/**
 * A batch of quotes folded to the latest trade per stock, day and minute: a batch holds about ten
 * trades per stock-minute and only the last matters to the series. Built quote by quote without
 * allocating for a superseded one (the minute's entry is updated in place), since this runs once
 * per message.
 */
export class MinuteFold {
  readonly stockDays: StockDayMinutes[] = [];
  /** Nested maps rather than a joined key: no string is built per quote. */
  private readonly bySymbol = new Map<string, Map<string, StockDayMinutes>>();

  add(quote: PriceQuote): void {
    this.put(quote.symbol, quote.date, Number(quote.time), quote.seq, quote.price);
  }

  /** A valid trade; `time` is its `hhmmss` as a number. */
  put(symbol: string, date: string, time: number, seq: number, price: number): void {
    this.putIn(this.stockDay(symbol, date), time, seq, price);
  }

  /** The fold's entry for a stock-day, created empty if it has none. */
  stockDay(symbol: string, date: string): StockDayMinutes {
    let byDate = this.bySymbol.get(symbol);
    if (!byDate) {
      byDate = new Map();
      this.bySymbol.set(symbol, byDate);
    }
    let day = byDate.get(date);
    if (!day) {
      day = { symbol, date, minutes: new Map() };
      byDate.set(date, day);
      this.stockDays.push(day);
    }
    return day;
  }

  /**
   * A valid trade of the stock-day `day`, which `stockDay()` of this fold returned: a caller that
   * keeps it (QuoteReader, per stock-day prefix) saves two map lookups per quote.
   */
  putIn(day: StockDayMinutes, time: number, seq: number, price: number): void {
    const minute = Math.floor(time / 100);
    const current = day.minutes.get(minute);
    if (!current) {
      day.minutes.set(minute, { time, seq, price });
    } else if (time > current.time || (time === current.time && seq > current.seq)) {
      current.time = time;
      current.seq = seq;
      current.price = price;
    }
  }
}
