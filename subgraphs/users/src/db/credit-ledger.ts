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

function fromRow(row: ReservationRow): CreditReservation {
  return {
    orderId: row.order_id,
    userId: row.user_id,
    amount: moneyFromColumn(row.amount),
    status: row.status,
  };
}

/**
 * Credit set aside for orders. Every operation runs in one transaction holding a lock on the
 * order id, and is idempotent by order id: calling it again answers what the first call did and
 * moves no money. The user's `credit` column is spendable credit; reserved and spent amounts sit
 * in `credit_reservations`, so credit + RESERVED + CAPTURED - deposits is constant per user.
 */
export class CreditLedger {
  constructor(private readonly dataSource: DataSource) {}

  private inOrderTransaction<T>(orderId: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      // Serializes concurrent calls for the same order (a retry racing the original).
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

  capture(orderId: string): Promise<CreditReservation> {
    return this.inOrderTransaction(orderId, async (manager) => {
      const reservation = await this.mustFind(manager, orderId);
      if (reservation.status === 'CAPTURED') return reservation;
      if (reservation.status !== 'RESERVED') throw conflict(reservation, 'capture');
      await manager.query(
        "UPDATE credit_reservations SET status = 'CAPTURED', updated_at = now() WHERE order_id = $1",
        [orderId],
      );
      return { ...reservation, status: 'CAPTURED' };
    });
  }

  release(orderId: string): Promise<CreditReservation> {
    return this.inOrderTransaction(orderId, async (manager) => {
      const reservation = await this.mustFind(manager, orderId);
      if (reservation.status === 'RELEASED' || reservation.status === 'DENIED') return reservation;
      if (reservation.status !== 'RESERVED') throw conflict(reservation, 'release');
      await manager.query(
        "UPDATE credit_reservations SET status = 'RELEASED', updated_at = now() WHERE order_id = $1",
        [orderId],
      );
      await manager.query('UPDATE users SET credit = credit + $2, updated_at = now() WHERE id = $1', [
        reservation.userId,
        reservation.amount,
      ]);
      return { ...reservation, status: 'RELEASED' };
    });
  }

  deposit(orderId: string, userId: string, amount: number): Promise<CreditDeposit> {
    return this.inOrderTransaction(orderId, async (manager) => {
      const inserted = await manager.query<unknown[]>(
        `INSERT INTO credit_deposits (order_id, user_id, amount)
         SELECT $1, id, $3 FROM users WHERE id = $2
         ON CONFLICT (order_id) DO NOTHING RETURNING order_id`,
        [orderId, userId, amount],
      );
      if (inserted.length > 0) {
        await manager.query('UPDATE users SET credit = credit + $2, updated_at = now() WHERE id = $1', [
          userId,
          amount,
        ]);
        return { orderId, userId, amount };
      }
      const rows = await manager.query<Array<{ user_id: string; amount: string }>>(
        'SELECT user_id, amount FROM credit_deposits WHERE order_id = $1',
        [orderId],
      );
      if (!rows[0]) throw codedError('USER_NOT_FOUND', `No user with id ${userId}`);
      return { orderId, userId: rows[0].user_id, amount: moneyFromColumn(rows[0].amount) };
    });
  }

  private async mustFind(manager: EntityManager, orderId: string): Promise<CreditReservation> {
    const reservation = await this.find(manager, orderId);
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
