import { codedError, moneyFromColumn } from '@brokerage/common';
import type { DataSource, EntityManager } from 'typeorm';

export type ReservationStatus = 'RESERVED' | 'DENIED' | 'CAPTURED' | 'RELEASED';

export interface CreditReservation {
  orderId: string;
  userId: string;
  amount: number;
  status: ReservationStatus;
}

export interface CreditDeposit {
  orderId: string;
  userId: string;
  amount: number;
}

interface ReservationRow {
  order_id: string;
  user_id: string;
  amount: string;
  status: ReservationStatus;
}

interface DepositRow {
  order_id: string;
  user_id: string;
  amount: string;
}

function depositFromRow(row: DepositRow): CreditDeposit {
  return { orderId: row.order_id, userId: row.user_id, amount: moneyFromColumn(row.amount) };
}

function fromRow(row: ReservationRow): CreditReservation {
  return {
    orderId: row.order_id,
    userId: row.user_id,
    amount: moneyFromColumn(row.amount),
    status: row.status,
  };
}

// What every statement below answers a reservation with (fromRow reads these).
const RESERVATION_COLUMNS = 'order_id, user_id, amount, status';

/**
 * Credit set aside for orders. Every operation is idempotent by order id: calling it again answers
 * what the first call did and moves no money. The user's `credit` column is spendable credit;
 * reserved and spent amounts sit in `credit_reservations`, so credit + RESERVED + CAPTURED -
 * deposits is constant per user.
 *
 * `reserve` runs in a transaction holding an advisory lock on the order id: it reads, then writes,
 * and two reserves of one order must not both deduct. Capture, release and deposit need no such
 * lock: each is one conditional statement (the reservation's or the deposit's row lock serialises
 * racing calls for one order), and only when it changed nothing does a second read tell why.
 */
export class CreditLedger {
  constructor(private readonly dataSource: DataSource) {}

  private inOrderTransaction<T>(orderId: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      // Serializes concurrent reserves of the same order (a retry racing the original).
      await manager.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [orderId]);
      return work(manager);
    });
  }

  private async find(manager: EntityManager, orderId: string): Promise<CreditReservation | undefined> {
    const rows = await manager.query<ReservationRow[]>(
      'SELECT * FROM credit_reservations WHERE order_id = $1',
      [orderId],
    );
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  reserve(orderId: string, userId: string, amount: number): Promise<CreditReservation> {
    return this.inOrderTransaction(orderId, async (manager) => {
      const existing = await this.find(manager, orderId);
      if (existing) return existing;
      // The check and the deduction are one statement: concurrent orders can never overspend.
      // TypeORM answers an UPDATE with [rows, affected count].
      const [, deducted] = await manager.query<[unknown[], number]>(
        'UPDATE users SET credit = credit - $2, updated_at = now() WHERE id = $1 AND credit >= $2',
        [userId, amount],
      );
      let status: ReservationStatus = 'RESERVED';
      if (deducted === 0) {
        const user = await manager.query<unknown[]>('SELECT 1 FROM users WHERE id = $1', [userId]);
        if (user.length === 0) throw codedError('USER_NOT_FOUND', `No user with id ${userId}`);
        status = 'DENIED';
      }
      const [row] = await manager.query<ReservationRow[]>(
        'INSERT INTO credit_reservations (order_id, user_id, amount, status) VALUES ($1, $2, $3, $4) RETURNING *',
        [orderId, userId, amount, status],
      );
      return fromRow(row!);
    });
  }

  async capture(orderId: string): Promise<CreditReservation> {
    // Under READ COMMITTED an UPDATE that had to wait for a concurrent change of the row re-checks
    // its WHERE on the committed version: of a capture racing a release only one still finds the
    // row RESERVED, and the other changes nothing. The money was deducted at reserve: it stays.
    const [rows] = await this.dataSource.query<[ReservationRow[], number]>(
      `UPDATE credit_reservations SET status = 'CAPTURED', updated_at = now()
       WHERE order_id = $1 AND status = 'RESERVED'
       RETURNING ${RESERVATION_COLUMNS}`,
      [orderId],
    );
    if (rows[0]) return fromRow(rows[0]);
    const reservation = await this.mustFind(orderId);
    if (reservation.status === 'CAPTURED') return reservation;
    // A RESERVED row here was committed by a racing reserve after the UPDATE took its snapshot. The
    // UPDATE sees it now, and no status ever goes back to RESERVED, so this retries at most once.
    if (reservation.status === 'RESERVED') return this.capture(orderId);
    throw conflict(reservation, 'capture');
  }

  async release(orderId: string): Promise<CreditReservation> {
    // One statement, so the status change and the refund commit together or not at all. The refund
    // joins on what the conditional UPDATE changed: when a racing capture or release got the row
    // first, the re-checked WHERE matches nothing and no money moves. The users UPDATE re-reads the
    // row when a concurrent statement changed it first, so refunds racing other credit moves of one
    // user all add up. It locks one order's row, then the user's: no lock cycle with the others here,
    // nor with reserve (the user's row, then a new row of its own order).
    const [rows] = await this.dataSource.query<[ReservationRow[], number]>(
      `WITH released AS (
         UPDATE credit_reservations SET status = 'RELEASED', updated_at = now()
         WHERE order_id = $1 AND status = 'RESERVED'
         RETURNING ${RESERVATION_COLUMNS}
       )
       UPDATE users SET credit = users.credit + released.amount, updated_at = now()
       FROM released WHERE users.id = released.user_id
       RETURNING released.order_id, released.user_id, released.amount, released.status`,
      [orderId],
    );
    if (rows[0]) return fromRow(rows[0]);
    const reservation = await this.mustFind(orderId);
    if (reservation.status === 'RELEASED' || reservation.status === 'DENIED') return reservation;
    // Committed by a racing reserve after the statement's snapshot: retried at most once (see capture).
    if (reservation.status === 'RESERVED') return this.release(orderId);
    throw conflict(reservation, 'release');
  }

  async deposit(orderId: string, userId: string, amount: number): Promise<CreditDeposit> {
    // One statement: the deposit row and the credit commit together or not at all, and the credit
    // joins on the rows the INSERT wrote, so a repeat (DO NOTHING) adds nothing. Of concurrent
    // deposits of one order, the INSERTs after the first wait for it to commit and then do nothing.
    // The outer command is an UPDATE, so TypeORM answers [rows, count] here as in capture and release.
    const [rows] = await this.dataSource.query<[DepositRow[], number]>(
      `WITH deposited AS (
         INSERT INTO credit_deposits (order_id, user_id, amount)
         SELECT $1, id, $3 FROM users WHERE id = $2
         ON CONFLICT (order_id) DO NOTHING
         RETURNING order_id, user_id, amount
       )
       UPDATE users SET credit = users.credit + deposited.amount, updated_at = now()
       FROM deposited WHERE users.id = deposited.user_id
       RETURNING deposited.order_id, deposited.user_id, deposited.amount`,
      [orderId, userId, amount],
    );
    const inserted = rows[0];
    if (inserted) return depositFromRow(inserted);
    // Deposits are never deleted: no row here means the INSERT found no user, not a conflict.
    const [first] = await this.dataSource.query<DepositRow[]>(
      'SELECT order_id, user_id, amount FROM credit_deposits WHERE order_id = $1',
      [orderId],
    );
    if (!first) throw codedError('USER_NOT_FOUND', `No user with id ${userId}`);
    return depositFromRow(first);
  }

  private async mustFind(orderId: string): Promise<CreditReservation> {
    const reservation = await this.find(this.dataSource.manager, orderId);
    if (!reservation) throw codedError('RESERVATION_NOT_FOUND', `No credit reservation for order ${orderId}`);
    return reservation;
  }
}

function conflict(reservation: CreditReservation, action: string) {
  return codedError(
    'RESERVATION_CONFLICT',
    `Cannot ${action} the reservation of order ${reservation.orderId}: it is ${reservation.status}`,
  );
}
