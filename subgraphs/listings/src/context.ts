import {
  connectionsByOwnerLoader,
  loaderById,
  pagesByOwnerLoader,
  type Connection,
  type ConnectionPage,
  type RequestContext,
} from '@brokerage/graphql';
import { type Page } from '@brokerage/service';
import type DataLoader from 'dataloader';
import type { ListingRecord } from './db/listing-entity';
import type { ListingsRepository } from './db/listings-repository';
import type { UsersDirectory } from './users/users-directory';

export interface ListingsContext extends RequestContext {
  listings: ListingsRepository;
  usersDirectory: UsersDirectory;
  /** Batches the listings of one request's `_entities` call into one SQL query. */
  listingById: DataLoader<string, ListingRecord | null>;
  /** Batches `User.listings` for every user of a response into one SQL query per page shape. */
  listingsOfOwner: DataLoader<{ ownerId: string } & Page, ListingRecord[], string>;
  /** Batches `User.listingsConnection` for every user of a response into one SQL query per page shape. */
  listingsConnectionOfOwner: DataLoader<
    { ownerId: string; page: ConnectionPage },
    Connection<ListingRecord>,
    string
  >;
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
    listingsOfOwner: pagesByOwnerLoader((userIds, page) => listings.pagesByOwner(userIds, page)),
    listingsConnectionOfOwner: connectionsByOwnerLoader((userIds, page) =>
      listings.connectionsByOwner(userIds, page),
    ),
  };
}
