import { CreateStocks1732300000000 } from './1732300000000-create-stocks';
import { StockListings1733300000000 } from './1733300000000-stock-listings';

/** Every migration of the stocks database, oldest first. */
export const migrations = [CreateStocks1732300000000, StockListings1733300000000];
