import {
  codedError,
  traceHeaders,
  type OrderSide,
  type OrderStatus,
  type OrderStatusEvent,
  type Page,
  type VerificationOutcome,
  type VerificationRequest,
} from '@brokerage/common';
import type { DataSource, EntityManager } from 'typeorm';
import {
  OrderMessages,
  orderFromRow,
  type HoldingRecord,
  type OrderRecord,
  type OrderRow,
} from './order-record';
import { orderStatusEvent } from '../status/order-status-event';

/** What the outbox relay delivers, in insertion order (see outbox/outbox-relay.ts). */
export type OutboxMessage =
  | { kind: 'kafka'; payload: { topic: 'verification-requests'; key: string; value: VerificationRequest } }
  | { kind: 'credit'; payload: CreditCommand }
  | { kind: 'status'; payload: OrderStatusEvent };

/** One SQL statement and its parameters ($1, $2, ...). */
interface Statement {
  sql: string;
  parameters: unknown[];
}

export type CreditCommand =
  | { action: 'capture'; orderId: string }
  | { action: 'release'; orderId: string }
  | { action: 'deposit'; orderId: string; userId: string; amount: number };

export interface NewOrder {
  side: OrderSide;
  userId: string;
  stockId: string;
  quantity: number;
  price: number;
  total: number;
  clientOrderId: string | null;
}

/** Placing an order under a client order id its user has already used places nothing. */
export type Placement = { placed: true; order: OrderRecord } | { placed: false; existing: OrderRecord };

/** The conflict target of the partial unique index on a user's client order ids. */
const ON_CLIENT_ORDER_ID =
  'ON CONFLICT (user_id, client_order_id) WHERE client_order_id IS NOT NULL DO NOTHING';

/** Thrown inside a transaction to roll it back when its order's client order id is taken. */
class ClientOrderIdTaken extends Error {}

/**
 * All reads and writes of the orders database. Every state change writes the messages that
 * announce it into the outbox in the same transaction, so a change is never made without its
 * announcement, nor announced without being made.
 */
/**
 * The history rule: an order is listed when it passed its check (any status but DENIED), or when
 * it was DENIED today (business time zone) for 10 shares or more. Uses $2 = now, $3 = the zone.
 */
const LISTED_IN_HISTORY = `(status IN ('IN_PROGRESS', 'COMPLETED', 'FAILED', 'CANCELLED')
  OR (status = 'DENIED' AND quantity >= 10
      AND created_at >= date_trunc('day', $2::timestamptz AT TIME ZONE $3) AT TIME ZONE $3))`;

export class OrdersRepository {
  constructor(
    private readonly dataSource: DataSource,
    private readonly businessTimeZone: string,
  ) {}

  /**
   * A buy whose credit check has not been answered yet (status NEW, invisible outside this
   * service), unless its client order id is taken.
   */
  async createUnanswered(order: NewOrder): Promise<Placement> {
    const [row] = await this.dataSource.query<OrderRow[]>(
      `INSERT INTO orders (side, user_id, stock_id, quantity, price, total, status, message, client_order_id)
       VALUES ($1, $2, $3, $4, $5, $6, 'NEW', '', $7) ${ON_CLIENT_ORDER_ID} RETURNING *`,
      [
        order.side,
        order.userId,
        order.stockId,
        order.quantity,
        order.price,
        order.total,
        order.clientOrderId,
      ],
    );
    return row ? { placed: true, order: orderFromRow(row) } : this.taken(order);
  }

  /**
   * The order a user placed under a client order id, whatever its status (NEW included: a buy
   * whose first request is still under way, or died, is answered by the retry).
   */
  async findByClientOrderId(userId: string, clientOrderId: string): Promise<OrderRecord | undefined> {
    const rows = await this.dataSource.query<OrderRow[]>(
      'SELECT * FROM orders WHERE user_id = $1 AND client_order_id = $2',
      [userId, clientOrderId],
    );
    return rows[0] ? orderFromRow(rows[0]) : undefined;
  }

  /** The order that took `order`'s client order id (committed: the conflicting insert waited for it). */
  private async taken(order: NewOrder): Promise<Placement> {
    const existing = await this.findByClientOrderId(order.userId, order.clientOrderId!);
    // Only a NEW order is ever deleted (its user did not exist), and then its user never will.
    if (!existing) throw new Error(`client order id ${order.clientOrderId} conflicted but its order is gone`);
    return { placed: false, existing };
  }

  /** Records the credit check's answer; returns undefined when the order was answered already. */
  answerBuy(orderId: string, creditReserved: boolean): Promise<OrderRecord | undefined> {
    return this.dataSource.transaction(async (manager) => {
      const status: OrderStatus = creditReserved ? 'IN_PROGRESS' : 'DENIED';
      const rows = await manager.query<[OrderRow[], number]>(
        `UPDATE orders SET status = $2, message = $3, updated_at = now()
         WHERE id = $1 AND status = 'NEW' RETURNING *`,
        [orderId, status, OrderMessages.BUY[status]],
      );
      const row = rows[0][0];
      if (!row) return undefined;
      const order = orderFromRow(row);
      await this.announce(manager, order, creditReserved);
      return order;
    });
  }

  /** A buy whose user does not exist leaves nothing behind. */
  async deleteUnanswered(orderId: string): Promise<void> {
    await this.dataSource.query("DELETE FROM orders WHERE id = $1 AND status = 'NEW'", [orderId]);
  }

  /** Buys whose process died between creating them and answering them. */
  async unansweredOlderThan(ms: number): Promise<OrderRecord[]> {
    const rows = await this.dataSource.query<OrderRow[]>(
      `SELECT * FROM orders WHERE status = 'NEW' AND created_at < now() - make_interval(secs => $1)
       ORDER BY id LIMIT 100`,
      [ms / 1000],
    );
    return rows.map(orderFromRow);
  }

  /**
   * A sell: the share check, the reservation of the shares and the order are one transaction,
   * rolled back (reservation included) if the client order id is taken.
   */
  async placeSell(order: NewOrder): Promise<Placement> {
    try {
      return { placed: true, order: await this.insertSell(order) };
    } catch (error) {
      if (error instanceof ClientOrderIdTaken) return this.taken(order);
      throw error;
    }
  }

  private insertSell(order: NewOrder): Promise<OrderRecord> {
    return this.dataSource.transaction(async (manager) => {
      const reserved = await manager.query<[unknown[], number]>(
        `UPDATE holdings SET reserved = reserved + $3, updated_at = now()
         WHERE user_id = $1 AND stock_id = $2 AND quantity - reserved >= $3 RETURNING user_id`,
        [order.userId, order.stockId, order.quantity],
      );
      const status: OrderStatus = reserved[0].length > 0 ? 'IN_PROGRESS' : 'DENIED';
      const [row] = await manager.query<OrderRow[]>(
        `INSERT INTO orders (side, user_id, stock_id, quantity, price, total, status, message, client_order_id)
         VALUES ('SELL', $1, $2, $3, $4, $5, $6, $7, $8) ${ON_CLIENT_ORDER_ID} RETURNING *`,
        [
          order.userId,
          order.stockId,
          order.quantity,
          order.price,
          order.total,
          status,
          OrderMessages.SELL[status],
          order.clientOrderId,
        ],
      );
      if (!row) throw new ClientOrderIdTaken();
      const placed = orderFromRow(row);
      await this.announce(manager, placed, status === 'IN_PROGRESS');
      return placed;
    });
  }

  /**
   * Applies a verification outcome to an IN_PROGRESS order; any other status (a late or repeated
   * outcome, or a cancelled order) is left alone and undefined is returned.
   */
  applyOutcome(orderId: string, outcome: VerificationOutcome['outcome']): Promise<OrderRecord | undefined> {
    return this.dataSource.transaction((manager) =>
      this.finish(manager, orderId, outcome === 'APPROVED' ? 'COMPLETED' : 'FAILED'),
    );
  }

  cancel(orderId: string): Promise<OrderRecord> {
    return this.dataSource.transaction(async (manager) => {
      const cancelled = await this.finish(manager, orderId, 'CANCELLED');
      if (!cancelled) {
        const existing = await this.findVisible(manager, orderId);
        if (!existing) throw codedError('ORDER_NOT_FOUND', `No order with id ${orderId}`);
        throw codedError(
          'ORDER_NOT_CANCELLABLE',
          `Order ${orderId} is ${existing.status}; only an IN_PROGRESS order can be cancelled`,
        );
      }
      return cancelled;
    });
  }

  async findByIds(ids: readonly string[]): Promise<OrderRecord[]> {
    const rows = await this.dataSource.query<OrderRow[]>(
      "SELECT * FROM orders WHERE id = ANY($1::bigint[]) AND status <> 'NEW'",
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

  private async findVisible(manager: EntityManager, orderId: string): Promise<OrderRecord | undefined> {
    const rows = await manager.query<OrderRow[]>("SELECT * FROM orders WHERE id = $1 AND status <> 'NEW'", [
      orderId,
    ]);
    return rows[0] ? orderFromRow(rows[0]) : undefined;
  }

  /**
   * Moves an IN_PROGRESS order to a final status, with its effects on holdings and credit; undefined
   * when the order is not IN_PROGRESS. This sits on the path of every buy result, so it takes two
   * statements: the conditional update locks the row and checks its status at once (a concurrent
   * change commits first and leaves it matching nothing), and one statement writes the holdings
   * change together with the outbox messages.
   */
  private async finish(
    manager: EntityManager,
    orderId: string,
    status: 'COMPLETED' | 'FAILED' | 'CANCELLED',
  ): Promise<OrderRecord | undefined> {
    const [rows] = await manager.query<[OrderRow[], number]>(
      `UPDATE orders SET status = $2, message = CASE side WHEN 'BUY' THEN $3 ELSE $4 END, updated_at = now()
        WHERE id = $1 AND status = 'IN_PROGRESS' RETURNING *`,
      [orderId, status, OrderMessages.BUY[status], OrderMessages.SELL[status]],
    );
    if (!rows[0]) return undefined;
    const order = orderFromRow(rows[0]);
    const completed = status === 'COMPLETED';
    const credit: CreditCommand[] = [];
    let holdings: Statement | undefined;
    if (order.side === 'BUY') {
      credit.push({ action: completed ? 'capture' : 'release', orderId: order.id });
      holdings = completed
        ? {
            sql: `INSERT INTO holdings (user_id, stock_id, quantity) VALUES ($1, $2, $3)
                  ON CONFLICT (user_id, stock_id) DO UPDATE SET quantity = holdings.quantity + $3, updated_at = now()`,
            parameters: [order.userId, order.stockId, order.quantity],
          }
        : undefined;
    } else {
      if (completed) {
        credit.push({ action: 'deposit', orderId: order.id, userId: order.userId, amount: order.total });
      }
      holdings = {
        sql: `UPDATE holdings SET reserved = reserved - $3, quantity = quantity - $4, updated_at = now()
               WHERE user_id = $1 AND stock_id = $2`,
        parameters: [order.userId, order.stockId, order.quantity, completed ? order.quantity : 0],
      };
    }
    // Credit first: whoever sees this status event and reads the user's credit sees it settled.
    await this.enqueue(
      manager,
      [
        ...credit.map((payload): OutboxMessage => ({ kind: 'credit', payload })),
        { kind: 'status', payload: orderStatusEvent(order, true) },
      ],
      holdings,
    );
    return order;
  }

  /** The outbox messages of an answered order: the verification request (if it goes on) and its status. */
  private announce(manager: EntityManager, order: OrderRecord, verify: boolean): Promise<void> {
    const messages: OutboxMessage[] = [];
    if (verify) {
      messages.push({
        kind: 'kafka',
        payload: {
          topic: 'verification-requests',
          key: order.id,
          value: {
            orderId: order.id,
            userId: order.userId,
            side: order.side,
            requestedAt: new Date().toISOString(),
          },
        },
      });
    }
    // The credit check was answered (or shares reserved) before this: nothing left to settle.
    messages.push({ kind: 'status', payload: orderStatusEvent(order, true) });
    return this.enqueue(manager, messages);
  }

  /**
   * Writes messages to the outbox; `alongside`, a change that belongs with them, runs in the same
   * statement (one round trip fewer).
   */
  private async enqueue(
    manager: EntityManager,
    messages: OutboxMessage[],
    alongside?: Statement,
  ): Promise<void> {
    // The trace this change belongs to (if any) travels with its messages.
    const trace = traceHeaders();
    const first = (alongside?.parameters.length ?? 0) + 1;
    const [kinds, payloads, traceContext] = [`$${first}`, `$${first + 1}`, `$${first + 2}`];
    await manager.query(
      // In the messages' order: ids are assigned in it, and the relay delivers an order's messages by id.
      `${alongside ? `WITH alongside AS (${alongside.sql}) ` : ''}INSERT INTO outbox (kind, payload, trace_context)
        SELECT kind, payload, ${traceContext}::jsonb
          FROM unnest(${kinds}::text[], ${payloads}::jsonb[]) WITH ORDINALITY AS message(kind, payload, position)
         ORDER BY position`,
      [
        ...(alongside?.parameters ?? []),
        messages.map(({ kind }) => kind),
        messages.map(({ payload }) => JSON.stringify(payload)),
        Object.keys(trace).length > 0 ? JSON.stringify(trace) : null,
      ],
    );
  }
}
