import { type Redis } from '@brokerage/redis';
import { fromExchangeMoment } from '@brokerage/price-fetcher-contract';
import { seriesKeys, type PriceSeries } from '@brokerage/price-ingestor-contract';

export interface LastPrice {
  price: number;
  at: Date;
}

const EMPTY: PriceSeries = { time: [], price: [] };

function parseSeries(raw: string | null): PriceSeries {
  if (!raw) return EMPTY;
  const series = JSON.parse(raw) as PriceSeries;
  return Array.isArray(series.time) && Array.isArray(series.price) ? series : EMPTY;
}

/** Reads the minute series the price ingestor keeps in Redis (layout: seriesKeys). */
export class PriceReader {
  constructor(
    private readonly redis: Redis,
    private readonly timeZone: string,
  ) {}

  /** The latest price of each symbol, in one round trip. */
  async lastPrices(symbols: readonly string[]): Promise<Array<LastPrice | null>> {
    const keys = symbols.flatMap((symbol) => [seriesKeys.latest(symbol), seriesKeys.latestDate(symbol)]);
    const values = keys.length > 0 ? await this.redis.mget(...keys) : [];
    return symbols.map((_, index) => {
      const series = parseSeries(values[index * 2] ?? null);
      const date = values[index * 2 + 1];
      const last = series.time.length - 1;
      if (last < 0 || !date) return null;
      return {
        price: series.price[last]!,
        at: fromExchangeMoment({ date, time: series.time[last]! }, this.timeZone),
      };
    });
  }

  /** One day's series (`yyyymmdd`), or the latest day's; empty when there is none. */
  async series(symbol: string, date?: string): Promise<PriceSeries> {
    return parseSeries(await this.redis.get(date ? seriesKeys.day(symbol, date) : seriesKeys.latest(symbol)));
  }
}
