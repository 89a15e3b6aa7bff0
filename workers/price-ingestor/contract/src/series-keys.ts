/**
 * Where a stock's minute series live in Redis. The form is a contract with existing clients:
 * the latest trading day under the lower-case symbol (`stock1`), every day (the latest too) under
 * `<symbol>:<yyyymmdd>`, each a JSON `{"time": ["090000", ...], "price": [...]}` sorted by time.
 * Two bookkeeping keys sit beside them: the date the bare key holds, and each day's per-minute
 * trade orders (16 bytes a minute, `hhmmss.tradeNumber`, in the series' order).
 */
export const seriesKeys = {
  latest: (symbol: string) => symbol,
  latestDate: (symbol: string) => `${symbol}:latest-date`,
  day: (symbol: string, date: string) => `${symbol}:${date}`,
  dayOrders: (symbol: string, date: string) => `${symbol}:${date}:orders`,
  /** Where ingestors before the orders string kept them: a hash by minute, moved on the day's next write. */
  legacyDayTicks: (symbol: string, date: string) => `${symbol}:${date}:ticks`,
};

export interface PriceSeries {
  time: string[];
  price: number[];
}

/** The prefix of every series key by default: none, the bare-symbol form existing clients read. */
export const DEFAULT_PRICES_KEY_PREFIX = '';
