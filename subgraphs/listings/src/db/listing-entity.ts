import { moneyFromColumn } from '@brokerage/graphql';
import { EntitySchema } from 'typeorm';
import type { ListingType } from '../generated/resolvers-types';

/** A listing as stored; the GraphQL `Listing` resolves from this shape. */
export interface ListingRecord {
  id: string;
  /** The owner's id in the users subgraph; this service never reads the users database. */
  userId: string;
  listingType: ListingType;
  /** More than 0, in the smallest currency unit. */
  price: number;
  createdAt: Date;
  updatedAt: Date;
}

/** A user as this subgraph knows one: only the key; the users subgraph resolves the rest. */
export interface UserReference {
  id: string;
}

export const ListingEntity = new EntitySchema<ListingRecord>({
  name: 'Listing',
  tableName: 'listings',
  columns: {
    id: { type: 'bigint', primary: true, generated: 'increment' },
    userId: { name: 'user_id', type: 'bigint' },
    listingType: { name: 'listing_type', type: 'text' },
    price: {
      type: 'bigint',
      transformer: { to: (value: number) => value, from: (value: string) => moneyFromColumn(value) },
    },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    updatedAt: { name: 'updated_at', type: 'timestamptz', updateDate: true },
  },
});
