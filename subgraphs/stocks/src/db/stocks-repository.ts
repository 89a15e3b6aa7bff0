import type { DataSource, Repository } from 'typeorm';
import { StockEntity, type StockRecord } from './stock-entity';

/** Thrown when a stock's id or symbol is already listed. */
export class DuplicateStockError extends Error {}

/** All access to the stocks table. */
export class StocksRepository {
  private readonly stocks: Repository<StockRecord>;

  constructor(dataSource: DataSource) {
    this.stocks = dataSource.getRepository(StockEntity);
  }

  all(): Promise<StockRecord[]> {
    return this.stocks.find({ order: { symbol: 'ASC' } });
  }

  findByIds(ids: readonly string[]): Promise<StockRecord[]> {
    return this.stocks.createQueryBuilder('stock').where('stock.id = ANY(:ids)', { ids }).getMany();
  }

  findBySymbol(symbol: string): Promise<StockRecord | null> {
    return this.stocks.findOneBy({ symbol });
  }

  async create(input: Pick<StockRecord, 'id' | 'symbol' | 'name'>): Promise<StockRecord> {
    try {
      const { generatedMaps } = await this.stocks.insert(input);
      return { ...input, ...(generatedMaps[0] as Pick<StockRecord, 'createdAt' | 'updatedAt'>) };
    } catch (error) {
      // The primary key and the unique symbol decide, atomically, even between concurrent requests.
      if ((error as { driverError?: { code?: string } }).driverError?.code === '23505') {
        throw new DuplicateStockError((error as Error).message);
      }
      throw error;
    }
  }
}
