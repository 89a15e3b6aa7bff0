import { SessionErrorCode } from '@brokerage/auth';
import {
  CURSOR_CREATED_AT_SQL,
  keysetSql,
  toConnection,
  type Connection,
  type ConnectionPage,
} from '@brokerage/graphql';
import { codedError, type Page } from '@brokerage/service';
import type { DataSource, EntityManager, Repository } from 'typeorm';
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
   * Creates a user (with sign-in credentials when given) and, before the row commits, runs
   * `beforeCommit` with it (opening the user's trading account): if that fails, the user is not
   * created. Should the commit fail after it succeeded, what it opened belongs to an id no user
   * will ever have (identities are never reused). A username someone has already (whatever its
   * case) is refused with USERNAME_TAKEN before anything is opened.
   */
  create(
    input: { name: string; credentials?: Credentials },
    beforeCommit: (user: UserRecord) => Promise<void>,
  ): Promise<UserRecord> {
    return this.dataSource.transaction(async (manager) => {
      const [row] = await manager
        .query<Array<{ id: string; name: string; created_at: Date; updated_at: Date }>>(
          `INSERT INTO users (name, username, password_hash) VALUES ($1, $2, $3)
           RETURNING id, name, created_at, updated_at`,
          [input.name, input.credentials?.username ?? null, input.credentials?.passwordHash ?? null],
        )
        .catch(usernameTaken);
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

  /** What sign-in checks a password against: found by username whatever its case. */
  async findSignIn(username: string): Promise<SignInRecord | undefined> {
    const [row] = await this.dataSource.query<Array<{ id: string; password_hash: string; admin: boolean }>>(
      'SELECT id, password_hash, admin FROM users WHERE lower(username) = lower($1)',
      [username],
    );
    return row && { id: row.id, passwordHash: row.password_hash, admin: row.admin };
  }

  async findSignInById(id: string): Promise<SignInRecord | undefined> {
    const [row] = await this.dataSource.query<
      Array<{ id: string; password_hash: string | null; admin: boolean }>
    >('SELECT id, password_hash, admin FROM users WHERE id = $1', [id]);
    return row?.password_hash ? { id: row.id, passwordHash: row.password_hash, admin: row.admin } : undefined;
  }

  /**
   * Replaces a user's password hash (and, when given, username), then runs `alsoInTransaction`
   * (ending their sessions) in the same transaction. False when there is no such user.
   */
  setCredentials(
    userId: string,
    change: { username?: string; passwordHash: string },
    alsoInTransaction: (manager: EntityManager) => Promise<void>,
  ): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const result = await manager
        .query<[unknown[], number]>(
          `UPDATE users SET password_hash = $2, username = COALESCE($3, username), updated_at = now()
            WHERE id = $1 AND (username IS NOT NULL OR $3::text IS NOT NULL)`,
          [userId, change.passwordHash, change.username ?? null],
        )
        .catch(usernameTaken);
      if (result[1] === 0) return false;
      await alsoInTransaction(manager);
      return true;
    });
  }
}

export interface Credentials {
  username: string;
  passwordHash: string;
}

export interface SignInRecord {
  id: string;
  passwordHash: string;
  admin: boolean;
}

function usernameTaken(error: unknown): never {
  if ((error as { constraint?: string }).constraint === 'users_username_key') {
    throw codedError(SessionErrorCode.USERNAME_TAKEN, 'Someone has this username already', {
      field: 'input.username',
    });
  }
  throw error;
}
