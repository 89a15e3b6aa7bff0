import type { StockListingEvent, StockListings } from '@brokerage/stocks-contract';
import type { DataSource, EntityManager, Repository } from 'typeorm';
import { StockEntity, type StockRecord } from './stock-entity';

/** Thrown when a stock's id or symbol is already listed. */
export class DuplicateStockError extends Error {}

interface StockRow {
  id: string;
  symbol: string;
  name: string;
  delisted_at: Date | null;
  version: string;
  created_at: Date;
  updated_at: Date;
}

function recordOf(row: StockRow): StockRecord {
  return {
    id: row.id,
    symbol: row.symbol,
    name: row.name,
    delistedAt: row.delisted_at,
    version: Number(row.version),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * All access to the stocks table. A change of the list of stocks to price (a listing, a
 * delisting, a listing again) is one transaction: it counts the list's version up (whose row lock makes changes
 * commit one after another, in version order), changes the stock and writes its announcement to
 * the outbox, which the relay delivers to the listings topic.
 */
export class StocksRepository {
  private readonly stocks: Repository<StockRecord>;

  constructor(private readonly dataSource: DataSource) {
    this.stocks = dataSource.getRepository(StockEntity);
  }

  /** The listed stocks, by symbol. */
  listed(): Promise<StockRecord[]> {
    return this.stocks
      .createQueryBuilder('stock')
      .where('stock.delisted_at IS NULL')
      .orderBy('stock.symbol', 'ASC')
      .getMany();
  }

  findByIds(ids: readonly string[]): Promise<StockRecord[]> {
    return this.stocks.createQueryBuilder('stock').where('stock.id = ANY(:ids)', { ids }).getMany();
  }

  findBySymbol(symbol: string): Promise<StockRecord | null> {
    return this.stocks.findOneBy({ symbol });
  }

  findBySymbols(symbols: readonly string[]): Promise<StockRecord[]> {
    return this.stocks
      .createQueryBuilder('stock')
      .where('stock.symbol = ANY(:symbols)', { symbols })
      .getMany();
  }

  /** The listed stocks and the version of the list they are, read in one statement (one snapshot). */
  async listings(): Promise<StockListings> {
    const rows = await this.dataSource.query<
      Array<{ list_version: string; id: string | null; symbol: string | null; version: string | null }>
    >(
      `SELECT l.version AS list_version, s.id, s.symbol, s.version
         FROM listings_version l LEFT JOIN stocks s ON s.delisted_at IS NULL
        ORDER BY s.symbol`,
    );
    return {
      version: Number(rows[0]?.list_version ?? 0),
      stocks: rows.flatMap(({ id, symbol, version }) =>
        id && symbol ? [{ id, symbol, version: Number(version) }] : [],
      ),
    };
  }

  async create(input: Pick<StockRecord, 'id' | 'symbol' | 'name'>): Promise<StockRecord> {
    try {
      return await this.dataSource.transaction(async (manager) => {
        const version = await nextVersion(manager);
        const [row] = await manager.query<StockRow[]>(
          `INSERT INTO stocks (id, symbol, name, version) VALUES ($1, $2, $3, $4) RETURNING *`,
          [input.id, input.symbol, input.name, version],
        );
        const stock = recordOf(row!);
        await announce(manager, stock, 'listed');
        return stock;
      });
    } catch (error) {
      // The primary key and the unique symbol decide, atomically, even between concurrent requests.
      if ((error as { driverError?: { code?: string } }).driverError?.code === '23505') {
        throw new DuplicateStockError((error as Error).message);
      }
      throw error;
    }
  }

  /**
   * Delists a listed stock, or lists a delisted one again; a stock already as asked is returned
   * as it is, with nothing announced again. Null when no stock has the id.
   */
  async changeListing(id: string, to: StockListingEvent['type']): Promise<StockRecord | null> {
    const [delistedAt, from] =
      to === 'delisted' ? ['now()', 'delisted_at IS NULL'] : ['NULL', 'delisted_at IS NOT NULL'];
    return this.dataSource
      .transaction(async (manager) => {
        const version = await nextVersion(manager);
        // An UPDATE answers [rows, count].
        const [[row]] = await manager.query<[StockRow[], number]>(
          `UPDATE stocks SET delisted_at = ${delistedAt}, updated_at = now(), version = $2
          WHERE id = $1 AND ${from} RETURNING *`,
          [id, version],
        );
        if (!row) {
          // Nothing changed: the version taken above is given back with the rollback.
          const [existing] = await manager.query<StockRow[]>('SELECT * FROM stocks WHERE id = $1', [id]);
          throw new NothingToChange(existing ? recordOf(existing) : null);
        }
        const stock = recordOf(row);
        await announce(manager, stock, to);
        return stock;
      })
      .catch((error: unknown) => {
        if (error instanceof NothingToChange) return error.stock;
        throw error;
      });
  }
}

/** Rolls a listing change back that changed nothing, carrying the stock as it is (or null). */
class NothingToChange extends Error {
  constructor(readonly stock: StockRecord | null) {
    super('nothing to change');
  }
}

/** Counts the list's version up; the row lock it takes is held until the change commits. */
async function nextVersion(manager: EntityManager): Promise<number> {
  const [[row]] = await manager.query<[Array<{ version: string }>, number]>(
    'UPDATE listings_version SET version = version + 1 RETURNING version',
  );
  return Number(row!.version);
}

async function announce(manager: EntityManager, stock: StockRecord, type: StockListingEvent['type']) {
  const event: StockListingEvent = {
    type,
    stockId: stock.id,
    symbol: stock.symbol,
    version: stock.version,
    at: stock.updatedAt.toISOString(),
  };
  await manager.query('INSERT INTO outbox (stock_id, event) VALUES ($1, $2)', [stock.id, event]);
}
