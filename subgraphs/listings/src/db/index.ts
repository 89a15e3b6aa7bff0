import { migrations } from './migrations';
import { ListingEntity } from './listing-entity';

/** The listings database's schema: its entities and every migration, oldest first. */
export const listingsDatabase = { entities: [ListingEntity], migrations };
