/**
 * Where a stock's minute series live in Redis. The form is a contract with existing clients:
 * the latest trading day under the lower-case symbol (`stock1`), every day (the latest too) under
 * `<symbol>:<yyyymmdd>`, each a JSON `{"time": ["090000", ...], "price": [...]}` sorted by time.
 * Two bookkeeping keys sit beside them: the date the bare key holds, and per-minute tick order.
 */
export const seriesKeys = {
  latest: (symbol: string) => symbol,
  latestDate: (symbol: string) => `${symbol}:latest-date`,
  day: (symbol: string, date: string) => `${symbol}:${date}`,
  dayTicks: (symbol: string, date: string) => `${symbol}:${date}:ticks`,
};

export interface PriceSeries {
  time: string[];
  price: number[];
}
