import { CreateOrders1732500000000 } from './1732500000000-create-orders';

/** Every migration of the orders database, oldest first. */
export const migrations = [CreateOrders1732500000000];
