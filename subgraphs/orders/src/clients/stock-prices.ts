import { codedError, SubgraphClient, type InternalTokens } from '@brokerage/common';

/** Asks the stocks service for a stock's last price (the orders service owns no prices). */
export class StockPrices {
  private readonly client: SubgraphClient;

  constructor(stocksUrl: string, timeoutMs: number, tokens: InternalTokens) {
    this.client = new SubgraphClient('stocks', stocksUrl, timeoutMs, tokens);
  }

  /** The last price; STOCK_NOT_FOUND for an unknown stock, PRICE_UNAVAILABLE before its first trade. */
  async lastPrice(stockId: string, requestId: string): Promise<number> {
    const { stock } = await this.client.request<{ stock: { lastPrice: number | null } | null }>(
      'query LastPrice($id: ID!) { stock(id: $id) { lastPrice } }',
      { id: stockId },
      requestId,
    );
    if (!stock)
      throw codedError('STOCK_NOT_FOUND', `No stock with id ${stockId}`, { field: 'input.stockId' });
    if (stock.lastPrice === null) {
      throw codedError(
        'PRICE_UNAVAILABLE',
        `Stock ${stockId} has not traded yet; there is no price to buy at`,
      );
    }
    return stock.lastPrice;
  }
}
