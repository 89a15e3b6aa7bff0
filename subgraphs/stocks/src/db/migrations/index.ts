import { CreateStocks1732300000000 } from './1732300000000-create-stocks';

/** Every migration of the stocks database, oldest first. */
export const migrations = [CreateStocks1732300000000];
