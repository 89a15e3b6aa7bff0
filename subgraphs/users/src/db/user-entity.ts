import { moneyFromColumn } from '@brokerage/common';
import { EntitySchema } from 'typeorm';

/** A user as stored; the GraphQL `User` resolves from this shape. */
export interface UserRecord {
  /** A bigint identity, kept as a string. */
  id: string;
  name: string;
  /** Spendable credit in the smallest currency unit. */
  credit: number;
  createdAt: Date;
  updatedAt: Date;
}

export const UserEntity = new EntitySchema<UserRecord>({
  name: 'User',
  tableName: 'users',
  columns: {
    id: { type: 'bigint', primary: true, generated: 'increment' },
    name: { type: 'text' },
    credit: {
      type: 'bigint',
      transformer: { to: (value: number) => value, from: (value: string) => moneyFromColumn(value) },
    },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    updatedAt: { name: 'updated_at', type: 'timestamptz', updateDate: true },
  },
});
