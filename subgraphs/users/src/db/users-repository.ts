import {
  CURSOR_CREATED_AT_SQL,
  keysetSql,
  toConnection,
  type Connection,
  type ConnectionPage,
  type Page,
} from '@brokerage/common';
import type { DataSource, Repository } from 'typeorm';
import { UserEntity, type UserRecord } from './user-entity';

/** Names the users' cursors, so no other list's cursor is taken for one of its own. */
export const USERS_LIST = 'users';

/** All access to the users table. */
export class UsersRepository {
  private readonly users: Repository<UserRecord>;

  constructor(private readonly dataSource: DataSource) {
    this.users = dataSource.getRepository(UserEntity);
  }

  /** Newest first; ties on created_at break by id so that pages never repeat or skip a row. */
  page({ offset, limit }: Page): Promise<UserRecord[]> {
    return this.users.find({ order: { createdAt: 'DESC', id: 'DESC' }, skip: offset, take: limit });
  }

  /**
   * A page as a cursor connection: a keyset read from the cursor's (created_at, id) on the
   * (created_at DESC, id DESC) index, so a deep page costs what the first does.
   */
  async connection(page: ConnectionPage): Promise<Connection<UserRecord>> {
    const keyset = keysetSql(page, 2);
    const rows = await this.dataSource.query<
      Array<{ id: string; name: string; created_at: Date; updated_at: Date; cursor_at: string }>
    >(
      `SELECT id, name, created_at, updated_at, ${CURSOR_CREATED_AT_SQL()} AS cursor_at FROM users
        WHERE ${keyset.condition} ORDER BY ${keyset.orderBy} LIMIT $1`,
      [keyset.limit, ...keyset.params],
    );
    return toConnection(
      USERS_LIST,
      page,
      rows.map((row) => ({
        key: { createdAt: row.cursor_at, id: row.id },
        node: { id: row.id, name: row.name, createdAt: row.created_at, updatedAt: row.updated_at },
      })),
    );
  }

  /** One query for any number of ids; the result is in no particular order. */
  findByIds(ids: readonly string[]): Promise<UserRecord[]> {
    return this.users.createQueryBuilder('user').where('user.id = ANY(:ids)', { ids }).getMany();
  }

  /**
   * Creates a user and, before the row commits, runs `beforeCommit` with it (opening the user's
   * trading account): if that fails, the user is not created. Should the commit fail after it
   * succeeded, what it opened belongs to an id no user will ever have (identities are never reused).
   */
  create(input: { name: string }, beforeCommit: (user: UserRecord) => Promise<void>): Promise<UserRecord> {
    return this.dataSource.transaction(async (manager) => {
      const [row] = await manager.query<
        Array<{ id: string; name: string; created_at: Date; updated_at: Date }>
      >('INSERT INTO users (name) VALUES ($1) RETURNING id, name, created_at, updated_at', [input.name]);
      const user: UserRecord = {
        id: row!.id,
        name: row!.name,
        createdAt: row!.created_at,
        updatedAt: row!.updated_at,
      };
      await beforeCommit(user);
      return user;
    });
  }
}
