import { CreateListings1732200000000 } from './1732200000000-create-listings';

/** Every migration of the listings database, oldest first. */
export const migrations = [CreateListings1732200000000];
