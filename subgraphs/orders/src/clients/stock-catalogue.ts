import { type InternalTokens } from '@brokerage/auth';
import { SubgraphClient } from '@brokerage/graphql';

/**
 * Asks the stocks service, which owns the list of stocks, whether a stock exists. Only an order
 * for a stock with no price seen yet asks, to tell an unknown stock from one that has not traded.
 */
export class StockCatalogue {
  private readonly client: SubgraphClient;

  constructor(stocksUrl: string, timeoutMs: number, tokens: InternalTokens) {
    this.client = new SubgraphClient('stocks', stocksUrl, timeoutMs, tokens);
  }

  async exists(stock: { id: string } | { symbol: string }, requestId: string): Promise<boolean> {
    if ('id' in stock) {
      const data = await this.client.request<{ stock: { id: string } | null }>(
        'query Stock($id: ID!) { stock(id: $id) { id } }',
        { id: stock.id },
        requestId,
      );
      return data.stock !== null;
    }
    const data = await this.client.request<{ stockBySymbol: { id: string } | null }>(
      'query StockBySymbol($symbol: String!) { stockBySymbol(symbol: $symbol) { id } }',
      { symbol: stock.symbol },
      requestId,
    );
    return data.stockBySymbol !== null;
  }
}
