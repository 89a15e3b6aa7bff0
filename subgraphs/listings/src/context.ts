import { loaderById, type Page, type RequestContext } from '@brokerage/common';
import DataLoader from 'dataloader';
import type { ListingRecord } from './db/listing-entity';
import type { ListingsRepository } from './db/listings-repository';
import type { UsersDirectory } from './users/users-directory';

export interface ListingsContext extends RequestContext {
  listings: ListingsRepository;
  usersDirectory: UsersDirectory;
  /** Batches the listings of one request's `_entities` call into one SQL query. */
  listingById: DataLoader<string, ListingRecord | null>;
  /** Batches `User.listings` for every user of a response into one SQL query per page shape. */
  listingsOfOwner: DataLoader<{ userId: string } & Page, ListingRecord[], string>;
}

export function createListingsContext(
  base: RequestContext,
  listings: ListingsRepository,
  usersDirectory: UsersDirectory,
): ListingsContext {
  return {
    ...base,
    listings,
    usersDirectory,
    listingById: loaderById((ids) => listings.findByIds(ids)),
    listingsOfOwner: new DataLoader(
      async (keys) => {
        // Keys of one batch normally share a page shape; group them in case they do not.
        const byShape = new Map<string, { page: Page; userIds: string[] }>();
        for (const { userId, offset, limit } of keys) {
          const shape = `${offset}:${limit}`;
          const group = byShape.get(shape) ?? { page: { offset, limit }, userIds: [] };
          group.userIds.push(userId);
          byShape.set(shape, group);
        }
        const results = new Map<string, ListingRecord[]>();
        await Promise.all(
          [...byShape.entries()].map(async ([shape, { page, userIds }]) => {
            for (const [userId, rows] of await listings.pagesByOwner(userIds, page)) {
              results.set(`${userId}:${shape}`, rows);
            }
          }),
        );
        return keys.map(({ userId, offset, limit }) => results.get(`${userId}:${offset}:${limit}`) ?? []);
      },
      { cacheKeyFn: ({ userId, offset, limit }) => `${userId}:${offset}:${limit}` },
    ),
  };
}
