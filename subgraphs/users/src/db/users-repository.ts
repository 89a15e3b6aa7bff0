import type { Page } from '@brokerage/common';
import type { DataSource, Repository } from 'typeorm';
import { UserEntity, type UserRecord } from './user-entity';

/** All access to the users table. */
export class UsersRepository {
  private readonly users: Repository<UserRecord>;

  constructor(dataSource: DataSource) {
    this.users = dataSource.getRepository(UserEntity);
  }

  /** Newest first; ties on created_at break by id so that pages never repeat or skip a row. */
  page({ offset, limit }: Page): Promise<UserRecord[]> {
    return this.users.find({ order: { createdAt: 'DESC', id: 'DESC' }, skip: offset, take: limit });
  }

  /** One query for any number of ids; the result is in no particular order. */
  findByIds(ids: readonly string[]): Promise<UserRecord[]> {
    return this.users.createQueryBuilder('user').where('user.id = ANY(:ids)', { ids }).getMany();
  }

  /** One INSERT ... RETURNING: the id and timestamps come back with the insert. */
  async create(input: { name: string; credit: number }): Promise<UserRecord> {
    const { generatedMaps } = await this.users.insert(input);
    return { ...input, ...(generatedMaps[0] as Pick<UserRecord, 'id' | 'createdAt' | 'updatedAt'>) };
  }
}
