import { moneyFromColumn, type Page } from '@brokerage/common';
import type { DataSource, Repository } from 'typeorm';
import { ListingEntity, type ListingRecord } from './listing-entity';

const NEWEST_FIRST = { createdAt: 'DESC', id: 'DESC' } as const;

/** All access to the listings table. */
export class ListingsRepository {
  private readonly listings: Repository<ListingRecord>;

  constructor(dataSource: DataSource) {
    this.listings = dataSource.getRepository(ListingEntity);
  }

  /** Newest first; ties on created_at break by id so that pages never repeat or skip a row. */
  page({ offset, limit }: Page, userId?: string): Promise<ListingRecord[]> {
    return this.listings.find({
      where: userId === undefined ? {} : { userId },
      order: NEWEST_FIRST,
      skip: offset,
      take: limit,
    });
  }

  /**
   * One page of each of several owners' listings in one query (for `User.listings` on a page of
   * users): a LATERAL join walks the (user_id, created_at, id) index once per owner.
   */
  async pagesByOwner(
    userIds: readonly string[],
    { offset, limit }: Page,
  ): Promise<Map<string, ListingRecord[]>> {
    const rows = await this.listings.query<ListingRow[]>(
      `SELECT l.id, l.user_id, l.listing_type, l.price, l.created_at, l.updated_at
         FROM unnest($1::bigint[]) AS owner(id)
         CROSS JOIN LATERAL (
           SELECT * FROM listings WHERE user_id = owner.id
            ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT $3
         ) l
        ORDER BY l.user_id, l.created_at DESC, l.id DESC`,
      [userIds, offset, limit],
    );
    const pages = new Map<string, ListingRecord[]>(userIds.map((id) => [id, []]));
    for (const row of rows) pages.get(row.user_id)?.push(fromRow(row));
    return pages;
  }

  findByIds(ids: readonly string[]): Promise<ListingRecord[]> {
    return this.listings.createQueryBuilder('listing').where('listing.id = ANY(:ids)', { ids }).getMany();
  }

  async create(input: Pick<ListingRecord, 'userId' | 'listingType' | 'price'>): Promise<ListingRecord> {
    const { generatedMaps } = await this.listings.insert(input);
    return { ...input, ...(generatedMaps[0] as Pick<ListingRecord, 'id' | 'createdAt' | 'updatedAt'>) };
  }
}

interface ListingRow {
  id: string;
  user_id: string;
  listing_type: ListingRecord['listingType'];
  price: string;
  created_at: Date;
  updated_at: Date;
}

function fromRow(row: ListingRow): ListingRecord {
  return {
    id: row.id,
    userId: row.user_id,
    listingType: row.listing_type,
    price: moneyFromColumn(row.price),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
