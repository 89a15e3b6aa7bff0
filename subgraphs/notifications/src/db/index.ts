import { migrations } from './migrations';

/**
 * The notifications database's schema, the one module both of the domain's processes share (the
 * subgraph writes endpoints, the notifier writes deliveries): every migration, oldest first.
 */
export const notificationsDatabase = { entities: [], migrations };
