import { EntitySchema } from 'typeorm';

/** A listed stock as stored; the GraphQL `Stock` resolves from this shape. */
export interface StockRecord {
  /** The exchange's instrument code (digits, kept as a string). */
  id: string;
  /** Lower case; also the key of the stock's price series. */
  symbol: string;
  name: string;
  /** Set once the stock is delisted: it is then no longer priced. */
  delistedAt: Date | null;
  /** The version of the list of stocks at this stock's latest change (see the stock-listings migration). */
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export const StockEntity = new EntitySchema<StockRecord>({
  name: 'Stock',
  tableName: 'stocks',
  columns: {
    id: { type: 'text', primary: true },
    symbol: { type: 'text', unique: true },
    name: { type: 'text' },
    delistedAt: { name: 'delisted_at', type: 'timestamptz', nullable: true },
    version: {
      type: 'bigint',
      transformer: { to: (value: number) => value, from: (value: string) => Number(value) },
    },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    updatedAt: { name: 'updated_at', type: 'timestamptz', updateDate: true },
  },
});
