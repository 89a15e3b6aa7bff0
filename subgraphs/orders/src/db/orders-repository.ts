import {
  CURSOR_CREATED_AT_SQL,
  keysetSql,
  toConnection,
  type Connection,
  type ConnectionPage,
} from '@brokerage/graphql';
import { type Page } from '@brokerage/service';
import type { DataSource } from 'typeorm';
import { orderFromRow, type HoldingRecord, type OrderRecord, type OrderRow } from './order-record';

/**
 * The history rule: an order is listed when it passed its check (any status but DENIED), or when
 * it was DENIED today (business time zone) for 10 shares or more. Uses $2 = now, $3 = the zone.
 */
const LISTED_IN_HISTORY = `(status IN ('IN_PROGRESS', 'COMPLETED', 'FAILED', 'CANCELLED')
  OR (status = 'DENIED' AND quantity >= 10
      AND created_at >= date_trunc('day', $2::timestamptz AT TIME ZONE $3) AT TIME ZONE $3))`;

/** Names the order history's cursors, so no other list's cursor is taken for one of its own. */
export const ORDER_HISTORY_LIST = 'orders';

type CursorRow = OrderRow & { cursor_at: string };

function edgeOf(row: CursorRow) {
  return { key: { createdAt: row.cursor_at, id: row.id }, node: orderFromRow(row) };
}

/** Reads of orders and holdings; every change goes through `OrderTransitions`. */
export class OrdersRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly businessTimeZone: string,
  ) {}

  /** The order a user placed under a client order id, whatever its status. */
  async findByClientOrderId(userId: string, clientOrderId: string): Promise<OrderRecord | undefined> {
    const rows = await this.dataSource.query<OrderRow[]>(
      'SELECT * FROM orders WHERE user_id = $1 AND client_order_id = $2',
      [userId, clientOrderId],
    );
    return rows[0] ? orderFromRow(rows[0]) : undefined;
  }

  async findByIds(ids: readonly string[]): Promise<OrderRecord[]> {
    const rows = await this.dataSource.query<OrderRow[]>(
      'SELECT * FROM orders WHERE id = ANY($1::bigint[])',
      [ids],
    );
    return rows.map(orderFromRow);
  }

  /**
   * The order history rule, in SQL: listed when the order passed its check (any status but
   * DENIED), or when it is DENIED, has a quantity of 10 or more and was placed today (the calendar
   * day of `now` in the business time zone). Newest first, ties broken by id.
   */
  async history(
    { offset, limit }: Page,
    userId: string | undefined,
    now = new Date(),
  ): Promise<OrderRecord[]> {
    const rows = await this.dataSource.query<OrderRow[]>(
      `SELECT * FROM orders
        WHERE ($1::bigint IS NULL OR user_id = $1)
          AND ${LISTED_IN_HISTORY}
        ORDER BY created_at DESC, id DESC OFFSET $4 LIMIT $5`,
      [userId ?? null, now, this.businessTimeZone, offset, limit],
    );
    return rows.map(orderFromRow);
  }

  /**
   * One history page of each of several users in one query (for `User.orders` on a page of users):
   * a LATERAL join walks the (user_id, created_at, id) index once per user.
   */
  async historyPagesByUser(
    userIds: readonly string[],
    { offset, limit }: Page,
    now = new Date(),
  ): Promise<Map<string, OrderRecord[]>> {
    const rows = await this.dataSource.query<OrderRow[]>(
      `SELECT o.* FROM unnest($1::bigint[]) AS owner(id)
         CROSS JOIN LATERAL (
           SELECT * FROM orders
            WHERE user_id = owner.id
              AND ${LISTED_IN_HISTORY}
            ORDER BY created_at DESC, id DESC OFFSET $4 LIMIT $5
         ) o
        ORDER BY o.user_id, o.created_at DESC, o.id DESC`,
      [userIds, now, this.businessTimeZone, offset, limit],
    );
    const pages = new Map<string, OrderRecord[]>(userIds.map((id) => [id, []]));
    for (const row of rows) pages.get(row.user_id)?.push(orderFromRow(row));
    return pages;
  }

  /**
   * A page of the history as a cursor connection: the same rule, read from the cursor's
   * (created_at, id) on the (user_id, created_at DESC, id DESC) index (every user's orders, for
   * admins, on the (created_at DESC, id DESC) one), so a deep page costs what the first does.
   */
  async historyConnection(
    page: ConnectionPage,
    userId: string | undefined,
    now = new Date(),
  ): Promise<Connection<OrderRecord>> {
    const keyset = keysetSql(page, userId === undefined ? 4 : 5);
    const rows = await this.dataSource.query<CursorRow[]>(
      `SELECT *, ${CURSOR_CREATED_AT_SQL()} AS cursor_at FROM orders
        WHERE ${userId === undefined ? '' : 'user_id = $4 AND '}${LISTED_IN_HISTORY}
          AND ${keyset.condition}
        ORDER BY ${keyset.orderBy} LIMIT $1`,
      [keyset.limit, now, this.businessTimeZone, ...(userId === undefined ? [] : [userId]), ...keyset.params],
    );
    return toConnection(ORDER_HISTORY_LIST, page, rows.map(edgeOf));
  }

  /**
   * One history connection page of each of several users in one query (for
   * `User.ordersConnection` on a page of users): a LATERAL join reads each user's keyset page.
   */
  async historyConnectionsByUser(
    userIds: readonly string[],
    page: ConnectionPage,
    now = new Date(),
  ): Promise<Map<string, Connection<OrderRecord>>> {
    const keyset = keysetSql(page, 5);
    const rows = await this.dataSource.query<CursorRow[]>(
      `SELECT o.* FROM unnest($4::bigint[]) AS owner(id)
         CROSS JOIN LATERAL (
           SELECT *, ${CURSOR_CREATED_AT_SQL()} AS cursor_at FROM orders
            WHERE user_id = owner.id
              AND ${LISTED_IN_HISTORY}
              AND ${keyset.condition}
            ORDER BY ${keyset.orderBy} LIMIT $1
         ) o
        ORDER BY o.user_id, ${keysetSql(page, 5, 'o.').orderBy}`,
      [keyset.limit, now, this.businessTimeZone, userIds, ...keyset.params],
    );
    const byUser = new Map<string, CursorRow[]>(userIds.map((id) => [id, []]));
    for (const row of rows) byUser.get(row.user_id)?.push(row);
    return new Map(
      [...byUser].map(([id, own]) => [id, toConnection(ORDER_HISTORY_LIST, page, own.map(edgeOf))]),
    );
  }

  /** Shares owned per user (reserved ones included until their sell completes). */
  async holdingsOf(userIds: readonly string[]): Promise<Map<string, HoldingRecord[]>> {
    const rows = await this.dataSource.query<Array<{ user_id: string; stock_id: string; quantity: string }>>(
      `SELECT user_id, stock_id, quantity FROM holdings
        WHERE user_id = ANY($1::bigint[]) AND quantity > 0 ORDER BY user_id, stock_id`,
      [userIds],
    );
    const byUser = new Map<string, HoldingRecord[]>(userIds.map((id) => [id, []]));
    for (const row of rows)
      byUser.get(row.user_id)?.push({ stockId: row.stock_id, quantity: Number(row.quantity) });
    return byUser;
  }
}
