import { migrations } from './migrations';

/** The orders database's schema: every migration, oldest first (the data access is plain SQL). */
export const ordersDatabase = { entities: [], migrations };
