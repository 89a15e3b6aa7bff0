import { encodePriceQuote, type PriceQuote } from '@brokerage/price-fetcher-contract';
import { Client } from 'pg';
import { produce } from './produce';

/** Publishes quotes to a prices topic as the price fetcher does (keyed by stock). */
export function publishQuotes(
  topic: string,
  quotes: readonly PriceQuote[],
  brokers?: string[],
): Promise<void> {
  return produce(
    topic,
    quotes.map((quote) => ({ key: quote.stockId, value: encodePriceQuote(quote) })),
    brokers,
  );
}

/** The price the orders service (whose database is at `ordersDatabaseUrl`) prices a stock at now. */
export async function pricedAt(ordersDatabaseUrl: string, stockId: string): Promise<number | undefined> {
  const db = new Client({ connectionString: ordersDatabaseUrl });
  await db.connect();
  try {
    const { rows } = await db.query<{ price: string }>('SELECT price FROM stock_prices WHERE stock_id = $1', [
      stockId,
    ]);
    return rows[0] ? Number(rows[0].price) : undefined;
  } finally {
    await db.end();
  }
}
