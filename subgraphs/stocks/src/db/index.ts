import { migrations } from './migrations';
import { StockEntity } from './stock-entity';

/** The stocks database's schema: its entities and every migration, oldest first. */
export const stocksDatabase = { entities: [StockEntity], migrations };
