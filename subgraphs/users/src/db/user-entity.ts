import { EntitySchema } from 'typeorm';

/** A user as stored; the GraphQL `User` resolves from this shape. */
export interface UserRecord {
  /** A bigint identity, kept as a string. */
  id: string;
  name: string;
  createdAt: Date;
  updatedAt: Date;
}

export const UserEntity = new EntitySchema<UserRecord>({
  name: 'User',
  tableName: 'users',
  columns: {
    id: { type: 'bigint', primary: true, generated: 'increment' },
    name: { type: 'text' },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    updatedAt: { name: 'updated_at', type: 'timestamptz', updateDate: true },
  },
});
