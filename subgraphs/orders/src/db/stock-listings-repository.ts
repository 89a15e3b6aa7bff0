import type { StockListingEvent } from '@brokerage/stocks-contract';
import type { DataSource } from 'typeorm';

/**
 * The orders service's view of the list of stocks (`stock_listings`), kept from the stocks
 * service's announcements. The stocks service owns the list; this copy exists so that the buy
 * statement can refuse a delisted stock in the same statement that would place the order.
 */
export class StockListingsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Applies announcements in one statement: per stock the latest of them, and only over an older
   * version, so a repeat, a replay of the topic from its start, or a late announcement changes
   * nothing. Returns how many stocks changed.
   */
  async apply(events: readonly StockListingEvent[]): Promise<number> {
    const latest = new Map<string, StockListingEvent>();
    for (const event of events) {
      const held = latest.get(event.stockId);
      if (!held || event.version > held.version) latest.set(event.stockId, event);
    }
    if (latest.size === 0) return 0;
    const rows = [...latest.values()];
    const changed = await this.dataSource.query<Array<{ stock_id: string }>>(
      `INSERT INTO stock_listings (stock_id, symbol, delisted_at, version)
       SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::bigint[])
       ON CONFLICT (stock_id) DO UPDATE
         SET symbol = excluded.symbol, delisted_at = excluded.delisted_at, version = excluded.version,
             updated_at = now()
         WHERE excluded.version > stock_listings.version
       RETURNING stock_id`,
      [
        rows.map((event) => event.stockId),
        rows.map((event) => event.symbol),
        rows.map((event) => (event.type === 'delisted' ? event.at : null)),
        rows.map((event) => event.version),
      ],
    );
    return changed.length;
  }

  /** Whether the stock is delisted as far as this service knows (a stock never announced is listed). */
  async isDelisted(stockId: string): Promise<boolean> {
    const rows = await this.dataSource.query<Array<{ delisted: boolean }>>(
      'SELECT delisted_at IS NOT NULL AS delisted FROM stock_listings WHERE stock_id = $1',
      [stockId],
    );
    return rows[0]?.delisted ?? false;
  }
}
