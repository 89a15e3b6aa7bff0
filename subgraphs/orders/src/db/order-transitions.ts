import { queryPrepared, type PreparedStatement } from '@brokerage/postgres';
import { traceHeaders } from '@brokerage/service';
import { type OrderSide } from '@brokerage/orders-contract';
import type { DataSource, EntityManager } from 'typeorm';
import { OrderMessages, orderFromRow, type OrderRecord, type OrderRow } from './order-record';

/** An order as requested and checked, before it is priced. */
export interface OrderRequest {
  side: OrderSide;
  userId: string;
  stock: { id: string } | { symbol: string };
  /** A quantity of shares, or (buys only) cash to spend: as many shares as it pays for. */
  size: { quantity: number } | { amount: number };
  clientOrderId: string | null;
}

/**
 * The stock's latest price and the order's size at it, as the placing statements start: $2 (stock
 * id) or $3 (symbol) names the stock, $4 (quantity) or $5 (amount) the size, $6 the largest
 * quantity. No row when the stock has no price or the size is out of bounds, and (`listedOnly`,
 * for buys) when the stock is delisted: nothing is written.
 */
function priced(listedOnly: boolean): string {
  const listed = listedOnly
    ? `AND NOT EXISTS (SELECT 1 FROM stock_listings
                             WHERE stock_listings.stock_id = stock_prices.stock_id
                               AND stock_listings.delisted_at IS NOT NULL)`
    : '';
  return `quote AS (
         SELECT stock_id, price FROM stock_prices WHERE (stock_id = $2 OR symbol = $3) ${listed}
          ORDER BY updated_at DESC LIMIT 1
       ), sized AS (
         SELECT stock_id, price, quantity, total::bigint AS total
           FROM (SELECT stock_id, price, quantity, price::numeric * quantity AS total
                   FROM (SELECT stock_id, price, COALESCE($4::bigint, $5::bigint / price) AS quantity FROM quote) q) t
          WHERE quantity BETWEEN 1 AND $6 AND total <= ${Number.MAX_SAFE_INTEGER}
       )`;
}

function pricingParameters(request: OrderRequest, maxQuantity: number): unknown[] {
  return [
    request.userId,
    'id' in request.stock ? request.stock.id : null,
    'symbol' in request.stock ? request.stock.symbol : null,
    'quantity' in request.size ? request.size.quantity : null,
    'amount' in request.size ? request.size.amount : null,
    maxQuantity,
  ];
}

export type FinalStatus = 'COMPLETED' | 'FAILED' | 'CANCELLED';

/** The conflict target of the partial unique index on a user's client order ids. */
const ON_CLIENT_ORDER_ID =
  'ON CONFLICT (user_id, client_order_id) WHERE client_order_id IS NOT NULL DO NOTHING';

/**
 * The outbox rows of a just-written order (`placed` or `finished` in the statement), in the
 * order they are delivered: an IN_PROGRESS order is sent for verification, and every change is
 * announced. $traceParameter is the trace the change belongs to, continued by the delivery.
 */
function announce(source: string, traceParameter: string): string {
  return `INSERT INTO outbox (order_id, kind, status, message, at, trace_context)
    SELECT ${source}.id, message.kind, ${source}.status, ${source}.message, ${source}.updated_at, ${traceParameter}::jsonb
      FROM ${source},
           unnest(CASE WHEN ${source}.status = 'IN_PROGRESS' THEN ARRAY['verification-request', 'status']
                       ELSE ARRAY['status'] END)
             WITH ORDINALITY AS message(kind, position)
     ORDER BY message.position`;
}

/** The trace context of the current span, as the outbox stores it (null outside any trace). */
export function currentTrace(): string | null {
  const trace = traceHeaders();
  return Object.keys(trace).length > 0 ? JSON.stringify(trace) : null;
}

/**
 * The order a placing statement writes, IN_PROGRESS or DENIED as `decision.enough` says, unless
 * its client order id is taken: $1 user, $7/$8 the IN_PROGRESS/DENIED messages, $9 the client
 * order id, $10 the verification deadline in seconds.
 */
function insertOrder(side: OrderSide, decision: string): string {
  return `INSERT INTO orders (side, user_id, stock_id, quantity, price, total, status, message, client_order_id, verify_by)
         SELECT '${side}', $1, sized.stock_id, sized.quantity, sized.price, sized.total,
                CASE WHEN enough THEN 'IN_PROGRESS' ELSE 'DENIED' END,
                CASE WHEN enough THEN $7 ELSE $8 END,
                $9, CASE WHEN enough THEN now() + make_interval(secs => $10) END
           FROM ${decision}, sized
         ${ON_CLIENT_ORDER_ID}
         RETURNING *`;
}

const PLACE_BUY: PreparedStatement = {
  name: 'orders.place-buy',
  text: `WITH ${priced(true)}, account AS (
         SELECT accounts.cash >= sized.total AS enough FROM accounts, sized WHERE accounts.user_id = $1
            FOR UPDATE OF accounts
       ), placed AS (
         ${insertOrder('BUY', 'account')}
       ), reserved AS (
         UPDATE accounts SET cash = accounts.cash - placed.total, reserved = accounts.reserved + placed.total,
                updated_at = now()
           FROM placed WHERE accounts.user_id = placed.user_id AND placed.status = 'IN_PROGRESS'
       ), recorded AS (
         INSERT INTO cash_movements (user_id, kind, amount, order_id)
         SELECT user_id, 'RESERVATION', total, id FROM placed WHERE status = 'IN_PROGRESS'
       ), announced AS (${announce('placed', '$11')})
       SELECT * FROM placed`,
};

const PLACE_SELL: PreparedStatement = {
  name: 'orders.place-sell',
  text: `WITH ${priced(false)}, holding AS (
         SELECT holdings.quantity - holdings.reserved >= sized.quantity AS enough
           FROM holdings, sized WHERE holdings.user_id = $1 AND holdings.stock_id = sized.stock_id
            FOR UPDATE OF holdings
       ), decision AS (
         SELECT COALESCE((SELECT enough FROM holding), false) AS enough
          WHERE EXISTS (SELECT 1 FROM accounts WHERE user_id = $1)
       ), placed AS (
         ${insertOrder('SELL', 'decision')}
       ), reserved AS (
         UPDATE holdings SET reserved = holdings.reserved + placed.quantity, updated_at = now()
           FROM placed
          WHERE holdings.user_id = placed.user_id AND holdings.stock_id = placed.stock_id
            AND placed.status = 'IN_PROGRESS'
       ), announced AS (${announce('placed', '$11')})
       SELECT * FROM placed`,
};

/** Locks the account a buy would reserve on: $1 user. */
const LOCK_ACCOUNT = 'SELECT 1 FROM accounts WHERE user_id = $1 FOR UPDATE';

/** Locks the holding a sell would reserve on: $1 user, $2/$3 the stock by id or symbol. */
const LOCK_HOLDING = `SELECT 1 FROM holdings
  WHERE user_id = $1
    AND stock_id = (SELECT stock_id FROM stock_prices WHERE stock_id = $2 OR symbol = $3 ORDER BY updated_at DESC LIMIT 1)
  FOR UPDATE`;

const FINISH_MANY: PreparedStatement = {
  name: 'orders.finish-many',
  text: `WITH input AS (
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::jsonb[])
           AS input(order_id, status, buy_message, sell_message, trace_context)
       ), finished AS (
         UPDATE orders SET status = input.status,
                message = CASE orders.side WHEN 'BUY' THEN input.buy_message ELSE input.sell_message END,
                updated_at = now(), verify_by = NULL
           FROM input
          WHERE orders.id = input.order_id AND orders.status = 'IN_PROGRESS'
         RETURNING orders.*, input.trace_context
       ), moves AS (
         SELECT user_id,
                sum(CASE WHEN side = 'BUY' AND status <> 'COMPLETED' THEN total
                         WHEN side = 'SELL' AND status = 'COMPLETED' THEN total ELSE 0 END) AS cash,
                sum(CASE WHEN side = 'BUY' THEN total ELSE 0 END) AS reserved
           FROM finished GROUP BY user_id
       ), locked AS (
         SELECT accounts.user_id FROM accounts JOIN moves USING (user_id) ORDER BY accounts.user_id FOR UPDATE OF accounts
       ), cash AS (
         UPDATE accounts SET cash = accounts.cash + moves.cash, reserved = accounts.reserved - moves.reserved,
                updated_at = now()
           FROM moves JOIN locked USING (user_id)
          WHERE accounts.user_id = moves.user_id
       ), recorded AS (
         INSERT INTO cash_movements (user_id, kind, amount, order_id)
         SELECT user_id,
                CASE WHEN side = 'SELL' THEN 'PROCEEDS' WHEN status = 'COMPLETED' THEN 'CAPTURE' ELSE 'RELEASE' END,
                total, id
           FROM finished WHERE side = 'BUY' OR status = 'COMPLETED'
       ), shares AS (
         SELECT user_id, stock_id,
                sum(CASE WHEN status <> 'COMPLETED' THEN 0 WHEN side = 'BUY' THEN quantity ELSE -quantity END) AS quantity,
                sum(CASE WHEN side = 'SELL' THEN quantity ELSE 0 END) AS released
           FROM finished WHERE side = 'SELL' OR status = 'COMPLETED' GROUP BY user_id, stock_id
       ), held AS (
         SELECT holdings.user_id, holdings.stock_id FROM holdings JOIN shares USING (user_id, stock_id)
          ORDER BY holdings.user_id, holdings.stock_id FOR UPDATE OF holdings
       ), moved AS (
         UPDATE holdings SET quantity = holdings.quantity + shares.quantity,
                reserved = holdings.reserved - shares.released, updated_at = now()
           FROM shares JOIN held USING (user_id, stock_id)
          WHERE holdings.user_id = shares.user_id AND holdings.stock_id = shares.stock_id
       ), opened AS (
         INSERT INTO holdings (user_id, stock_id, quantity)
         SELECT user_id, stock_id, quantity FROM shares
          WHERE NOT EXISTS (SELECT 1 FROM held WHERE held.user_id = shares.user_id AND held.stock_id = shares.stock_id)
          ORDER BY user_id, stock_id
         ON CONFLICT (user_id, stock_id)
           DO UPDATE SET quantity = holdings.quantity + excluded.quantity, updated_at = now()
       ), announced AS (
         INSERT INTO outbox (order_id, kind, status, message, at, trace_context)
         SELECT id, 'status', status, message, updated_at, trace_context FROM finished ORDER BY id
       )
       SELECT * FROM finished`,
};

/**
 * Every change of an order's status, each with its effects on cash, shares and the outbox in
 * one SQL statement, and never a change without its announcement. Placing a buy or a sell first
 * locks the row it reserves on by a statement of its own, in the same transaction. The ledger
 * (`cash_movements`) is written by the same statements that move cash, so every balance can be
 * recomputed from it.
 */
export class OrderTransitions {
  constructor(
    private readonly dataSource: DataSource,
    /** How long an IN_PROGRESS order waits for its verification outcome before it is asked again. */
    private readonly verificationDeadlineMs: number,
    /** Larger orders are never placed (a buy by amount included). */
    private readonly maxQuantity: number,
  ) {}

  /**
   * A buy, priced at the stock's latest price: the account's row is locked and its cash checked,
   * the order written IN_PROGRESS (cash reserved) or DENIED. Undefined when nothing was written:
   * no price, a delisted stock, a size out of bounds, no account, or a client order id already
   * taken (its insert waited for the order that took it to commit); the caller finds out which.
   */
  async placeBuy(request: OrderRequest): Promise<OrderRecord | undefined> {
    const parameters = [
      ...pricingParameters(request, this.maxQuantity),
      OrderMessages.BUY.IN_PROGRESS,
      OrderMessages.BUY.DENIED,
      request.clientOrderId,
      this.verificationDeadlineMs / 1000,
      currentTrace(),
    ];
    // As for a sell: the account is locked by a statement of its own first, so that the placing
    // statement starts after every change that held the lock (another buy's reservation, an
    // outcome, a deposit) has committed, and decides on the cash as it is. A statement that
    // decides while it waits for that lock can check an older version of the account than the one
    // it then reserves on, and the CHECK refuses the write (concurrent-buys.int.test.ts races it).
    const rows = await this.dataSource.transaction(async (manager) => {
      await manager.query(LOCK_ACCOUNT, [request.userId]);
      return this.run(manager, PLACE_BUY, parameters);
    });
    return rows[0] && orderFromRow(rows[0]);
  }

  /**
   * A sell, priced as a buy: the holding's row is locked and its free shares checked, the order
   * written IN_PROGRESS (shares reserved) or DENIED. Undefined as for a buy; a delisted stock is
   * sold at its last price (holders can always close their position: docs/order-flow.md).
   */
  async placeSell(request: OrderRequest): Promise<OrderRecord | undefined> {
    const parameters = [
      ...pricingParameters(request, this.maxQuantity),
      OrderMessages.SELL.IN_PROGRESS,
      OrderMessages.SELL.DENIED,
      request.clientOrderId,
      this.verificationDeadlineMs / 1000,
      currentTrace(),
    ];
    // The holding is locked by a statement of its own first: the placing statement then starts
    // after any change that held the lock (a finished sell freeing shares) has committed, and
    // decides on the holding as it is. Deciding inside one statement while waiting for that lock
    // was seen to check an older version than the one it then reserved on (holdings_check failed).
    const rows = await this.dataSource.transaction(async (manager) => {
      await manager.query(LOCK_HOLDING, parameters.slice(0, 3));
      return this.run(manager, PLACE_SELL, parameters);
    });
    return rows[0] && orderFromRow(rows[0]);
  }

  /**
   * Moves an IN_PROGRESS order to a final status with its effects: a buy's reservation is
   * captured (COMPLETED, shares added) or released to cash; a sell's shares are taken (COMPLETED,
   * proceeds to cash) or freed. Undefined when the order is not IN_PROGRESS: a repeated or late
   * outcome, or one racing a cancel, changes nothing (the conditional UPDATE re-checks the status
   * on the row a concurrent change committed).
   */
  async finish(
    orderId: string,
    status: FinalStatus,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<OrderRecord | undefined> {
    const [finished] = await this.finishMany([{ orderId, status, trace: currentTrace() }], manager);
    return finished;
  }

  /**
   * `finish` for many orders in one statement (a batch of verification outcomes): the accounts and
   * holdings of the batch move by their sums, each locked in key order so that concurrent batches
   * cannot deadlock. An order named twice is finished by its first entry.
   */
  async finishMany(
    entries: ReadonlyArray<{ orderId: string; status: FinalStatus; trace: string | null }>,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<OrderRecord[]> {
    const first = new Map<string, (typeof entries)[number]>();
    for (const entry of entries) if (!first.has(entry.orderId)) first.set(entry.orderId, entry);
    const unique = [...first.values()];
    if (unique.length === 0) return [];
    const rows = await this.run(manager, FINISH_MANY, [
      unique.map(({ orderId }) => orderId),
      unique.map(({ status }) => status),
      unique.map(({ status }) => OrderMessages.BUY[status]),
      unique.map(({ status }) => OrderMessages.SELL[status]),
      unique.map(({ trace }) => trace),
    ]);
    return rows.map(orderFromRow);
  }

  /**
   * IN_PROGRESS orders whose verification outcome is overdue (the request or the outcome was lost,
   * or the verifier is far behind): each is asked for again (the verifier answers a request per
   * order id, and the outcome that comes second changes nothing) while `retries` allow, and then
   * FAILED with what it reserved given back. Replicas share the work (SKIP LOCKED).
   */
  overdueVerifications(
    retries: number,
    limit = 100,
  ): Promise<{ askedAgain: OrderRecord[]; failed: OrderRecord[] }> {
    return this.dataSource.transaction(async (manager) => {
      const rows = await manager.query<OrderRow[]>(
        `SELECT * FROM orders WHERE status = 'IN_PROGRESS' AND verify_by < now()
          ORDER BY verify_by LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [limit],
      );
      const overdue = rows.map((row) => ({
        order: orderFromRow(row),
        attempts: (row as OrderRow & { verification_attempts: number }).verification_attempts,
      }));
      const askedAgain = overdue.filter(({ attempts }) => attempts < retries).map(({ order }) => order);
      if (askedAgain.length > 0) {
        await manager.query(
          `WITH asked AS (
             UPDATE orders SET verify_by = now() + make_interval(secs => $2),
                    verification_attempts = verification_attempts + 1
              WHERE id = ANY($1::bigint[]) RETURNING id, status, message
           )
           INSERT INTO outbox (order_id, kind, status, message, at, trace_context)
           SELECT id, 'verification-request', status, message, now(), NULL FROM asked ORDER BY id`,
          [askedAgain.map(({ id }) => id), this.verificationDeadlineMs / 1000],
        );
      }
      const failed: OrderRecord[] = [];
      for (const { order, attempts } of overdue) {
        if (attempts < retries) continue;
        const finished = await this.finish(order.id, 'FAILED', manager);
        if (finished) failed.push(finished);
      }
      return { askedAgain, failed };
    });
  }

  /** A hot statement: prepared on the pool, or plain inside the caller's transaction. */
  private run(manager: EntityManager, statement: PreparedStatement, values: unknown[]): Promise<OrderRow[]> {
    return manager === this.dataSource.manager
      ? queryPrepared<OrderRow>(this.dataSource, statement, values)
      : manager.query<OrderRow[]>(statement.text, values);
  }
}
