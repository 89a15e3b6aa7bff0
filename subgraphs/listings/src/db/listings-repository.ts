import {
  CURSOR_CREATED_AT_SQL,
  keysetSql,
  moneyFromColumn,
  toConnection,
  type Connection,
  type ConnectionPage,
} from '@brokerage/graphql';
import { type Page } from '@brokerage/service';
import type { DataSource, Repository } from 'typeorm';
import { ListingEntity, type ListingRecord } from './listing-entity';

const NEWEST_FIRST = { createdAt: 'DESC', id: 'DESC' } as const;

/** Names the listings' cursors, so no other list's cursor is taken for one of its own. */
export const LISTINGS_LIST = 'listings';

const COLUMNS = `id, user_id, listing_type, price, created_at, updated_at, ${CURSOR_CREATED_AT_SQL()} AS cursor_at`;

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

  /**
   * A page as a cursor connection: a keyset read from the cursor's (created_at, id) on the
   * (created_at DESC, id DESC) index, or the (user_id, created_at DESC, id DESC) one for an owner,
   * so a deep page costs what the first does.
   */
  async connection(page: ConnectionPage, userId?: string): Promise<Connection<ListingRecord>> {
    const keyset = keysetSql(page, userId === undefined ? 2 : 3);
    const rows = await this.listings.query<CursorRow[]>(
      `SELECT ${COLUMNS} FROM listings
        WHERE ${userId === undefined ? '' : 'user_id = $2 AND '}${keyset.condition}
        ORDER BY ${keyset.orderBy} LIMIT $1`,
      [keyset.limit, ...(userId === undefined ? [] : [userId]), ...keyset.params],
    );
    return toConnection(LISTINGS_LIST, page, rows.map(edgeOf));
  }

  /**
   * One connection page of each of several owners' listings in one query (for
   * `User.listingsConnection` on a page of users): a LATERAL join reads each owner's keyset page.
   */
  async connectionsByOwner(
    userIds: readonly string[],
    page: ConnectionPage,
  ): Promise<Map<string, Connection<ListingRecord>>> {
    const keyset = keysetSql(page, 3);
    const rows = await this.listings.query<CursorRow[]>(
      `SELECT l.* FROM unnest($2::bigint[]) AS owner(id)
         CROSS JOIN LATERAL (
           SELECT ${COLUMNS} FROM listings
            WHERE user_id = owner.id AND ${keyset.condition}
            ORDER BY ${keyset.orderBy} LIMIT $1
         ) l
        ORDER BY l.user_id, ${keysetSql(page, 3, 'l.').orderBy}`,
      [keyset.limit, userIds, ...keyset.params],
    );
    const byOwner = new Map<string, CursorRow[]>(userIds.map((id) => [id, []]));
    for (const row of rows) byOwner.get(row.user_id)?.push(row);
    return new Map([...byOwner].map(([id, own]) => [id, toConnection(LISTINGS_LIST, page, own.map(edgeOf))]));
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

type CursorRow = ListingRow & { cursor_at: string };

function edgeOf(row: CursorRow) {
  return { key: { createdAt: row.cursor_at, id: row.id }, node: fromRow(row) };
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
