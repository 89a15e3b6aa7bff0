import { moneyFromColumn } from '@brokerage/graphql';
import { type PriceQuote, type TradeCancellation } from '@brokerage/price-fetcher-contract';
import type { DataSource } from 'typeorm';

/** The latest trade of a stock as orders are priced at it. */
export interface StockPrice {
  stockId: string;
  symbol: string;
  price: number;
}

/**
 * The latest price of every stock, kept from the prices topic. A quote replaces the stored one
 * only when it is a later trade (date, time, trade number), so redelivered or reordered quotes
 * never move a price back.
 */
export class StockPricesRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Stores the latest of `quotes` per stock, in one statement. */
  async record(quotes: readonly PriceQuote[]): Promise<void> {
    const latest = new Map<string, PriceQuote>();
    for (const quote of quotes) {
      const held = latest.get(quote.stockId);
      if (!held || compareTrades(quote, held) > 0) latest.set(quote.stockId, quote);
    }
    if (latest.size === 0) return;
    const rows = [...latest.values()];
    await this.dataSource.query(
      `INSERT INTO stock_prices (stock_id, symbol, price, traded_at, seq)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::int[])
       ON CONFLICT (stock_id) DO UPDATE
         SET symbol = excluded.symbol, price = excluded.price, traded_at = excluded.traded_at,
             seq = excluded.seq, updated_at = now()
         WHERE (excluded.traded_at, excluded.seq) > (stock_prices.traded_at, stock_prices.seq)`,
      [
        rows.map((quote) => quote.stockId),
        rows.map((quote) => quote.symbol),
        rows.map((quote) => quote.price),
        rows.map((quote) => quote.date + quote.time),
        rows.map((quote) => quote.seq),
      ],
    );
  }

  /**
   * Takes back a cancelled trade: when it is the stored latest trade, the latest remaining trade of
   * its minute takes its place. When none remains in that minute, the stored price stays until the
   * next trade (the minutes before are the stocks service's series, not kept here).
   */
  async takeBack(cancellation: TradeCancellation): Promise<void> {
    const { stockId, date, cancelled, minuteLast } = cancellation;
    if (!minuteLast) return;
    await this.dataSource.query(
      `UPDATE stock_prices SET price = $4, traded_at = $5, seq = $6, updated_at = now()
        WHERE stock_id = $1 AND traded_at = $2 AND seq = $3`,
      [
        stockId,
        date + cancelled.time,
        cancelled.seq,
        minuteLast.price,
        date + minuteLast.time,
        minuteLast.seq,
      ],
    );
  }

  /** The stock's latest price, by instrument id or by (lower-case) symbol; undefined before its first trade. */
  async find(stock: { id: string } | { symbol: string }): Promise<StockPrice | undefined> {
    const [column, value] = 'id' in stock ? ['stock_id', stock.id] : ['symbol', stock.symbol];
    const rows = await this.dataSource.query<Array<{ stock_id: string; symbol: string; price: string }>>(
      `SELECT stock_id, symbol, price FROM stock_prices WHERE ${column} = $1 ORDER BY updated_at DESC LIMIT 1`,
      [value],
    );
    const row = rows[0];
    return row && { stockId: row.stock_id, symbol: row.symbol, price: moneyFromColumn(row.price) };
  }
}

function compareTrades(a: PriceQuote, b: PriceQuote): number {
  const byTime = (a.date + a.time).localeCompare(b.date + b.time);
  return byTime !== 0 ? byTime : a.seq - b.seq;
}
