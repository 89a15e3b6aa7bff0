import { EntitySchema } from 'typeorm';

/** A listed stock as stored; the GraphQL `Stock` resolves from this shape. */
export interface StockRecord {
  /** The exchange's instrument code (digits, kept as a string). */
  id: string;
  /** Lower case; also the key of the stock's price series. */
  symbol: string;
  name: string;
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
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    updatedAt: { name: 'updated_at', type: 'timestamptz', updateDate: true },
  },
});
