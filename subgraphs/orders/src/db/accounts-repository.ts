import { moneyFromColumn } from '@brokerage/graphql';
import { codedError } from '@brokerage/service';
import type { DataSource } from 'typeorm';

export type CashMovementKind = 'DEPOSIT' | 'WITHDRAWAL' | 'RESERVATION' | 'CAPTURE' | 'RELEASE' | 'PROCEEDS';

/** One line of an account's ledger, as the GraphQL `CashMovement` resolves it. */
export interface CashMovementRecord {
  id: string;
  userId: string;
  kind: CashMovementKind;
  amount: number;
  orderId: string | null;
  reference: string | null;
  createdAt: Date;
}

interface CashMovementRow {
  id: string;
  user_id: string;
  kind: CashMovementKind;
  amount: string;
  order_id: string | null;
  reference: string | null;
  created_at: Date;
}

function movementFromRow(row: CashMovementRow): CashMovementRecord {
  return {
    id: row.id,
    userId: row.user_id,
    kind: row.kind,
    amount: moneyFromColumn(row.amount),
    orderId: row.order_id,
    reference: row.reference,
    createdAt: row.created_at,
  };
}

export interface AccountBalance {
  /** Spendable: the API's `User.credit`. */
  cash: number;
  /** Set aside for IN_PROGRESS buys. */
  reserved: number;
}

/** The reference under which an account's opening cash is deposited (one per user). */
export const openingReference = (userId: string) => `opening:${userId}`;

/**
 * Trading accounts: each user's spendable cash and the cash reserved by open buys. Money moves in
 * only by a deposit and out only by a withdrawal, each made once per reference, so a request sent
 * again moves nothing twice; orders move it by `OrderTransitions`. Every change writes its ledger
 * line in the same statement.
 */
export class AccountsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Opens a user's account (nothing when it is open already), with its opening cash if any. */
  async open(userId: string, openingCash: number): Promise<void> {
    await this.dataSource.query('INSERT INTO accounts (user_id) VALUES ($1) ON CONFLICT DO NOTHING', [
      userId,
    ]);
    if (openingCash > 0) await this.deposit(userId, openingCash, openingReference(userId));
  }

  async deposit(userId: string, amount: number, reference: string): Promise<CashMovementRecord> {
    const rows = await this.dataSource.query<CashMovementRow[]>(
      `WITH moved AS (
         INSERT INTO cash_movements (user_id, kind, amount, reference)
         SELECT user_id, 'DEPOSIT', $2, $3 FROM accounts WHERE user_id = $1
         ON CONFLICT (reference) WHERE reference IS NOT NULL DO NOTHING
         RETURNING *
       ), credited AS (
         UPDATE accounts SET cash = accounts.cash + moved.amount, updated_at = now()
           FROM moved WHERE accounts.user_id = moved.user_id
       )
       SELECT * FROM moved`,
      [userId, amount, reference],
    );
    return rows[0] ? movementFromRow(rows[0]) : this.madeBefore('DEPOSIT', userId, amount, reference);
  }

  /** Takes cash out; never reserved cash, never below zero (INSUFFICIENT_CASH). */
  async withdraw(userId: string, amount: number, reference: string): Promise<CashMovementRecord> {
    const rows = await this.dataSource.query<CashMovementRow[]>(
      `WITH account AS (
         SELECT user_id FROM accounts WHERE user_id = $1 AND cash >= $2::bigint FOR UPDATE
       ), moved AS (
         INSERT INTO cash_movements (user_id, kind, amount, reference)
         SELECT user_id, 'WITHDRAWAL', $2, $3 FROM account
         ON CONFLICT (reference) WHERE reference IS NOT NULL DO NOTHING
         RETURNING *
       ), debited AS (
         UPDATE accounts SET cash = accounts.cash - moved.amount, updated_at = now()
           FROM moved WHERE accounts.user_id = moved.user_id
       )
       SELECT * FROM moved`,
      [userId, amount, reference],
    );
    if (rows[0]) return movementFromRow(rows[0]);
    const earlier = await this.findByReference(reference);
    if (earlier) return this.sameMovement(earlier, 'WITHDRAWAL', userId, amount);
    const [account] = await this.dataSource.query<Array<{ cash: string }>>(
      'SELECT cash FROM accounts WHERE user_id = $1',
      [userId],
    );
    if (!account) throw codedError('USER_NOT_FOUND', `No trading account for user ${userId}`);
    throw codedError(
      'INSUFFICIENT_CASH',
      `User ${userId} has ${moneyFromColumn(account.cash)} in cash that is not reserved; cannot withdraw ${amount}`,
      { field: 'amount' },
    );
  }

  /** Each user's spendable and reserved cash; a user without an account is absent. */
  async balancesOf(userIds: readonly string[]): Promise<Map<string, AccountBalance>> {
    const rows = await this.dataSource.query<Array<{ user_id: string; cash: string; reserved: string }>>(
      'SELECT user_id, cash, reserved FROM accounts WHERE user_id = ANY($1::bigint[])',
      [userIds],
    );
    return new Map(
      rows.map((row) => [
        row.user_id,
        { cash: moneyFromColumn(row.cash), reserved: moneyFromColumn(row.reserved) },
      ]),
    );
  }

  async exists(userId: string): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>('SELECT 1 FROM accounts WHERE user_id = $1', [
      userId,
    ]);
    return rows.length > 0;
  }

  /** A user's ledger, newest first. */
  async movementsOf(userId: string, limit: number): Promise<CashMovementRecord[]> {
    const rows = await this.dataSource.query<CashMovementRow[]>(
      'SELECT * FROM cash_movements WHERE user_id = $1 ORDER BY id DESC LIMIT $2',
      [userId, limit],
    );
    return rows.map(movementFromRow);
  }

  private async findByReference(reference: string): Promise<CashMovementRecord | undefined> {
    const rows = await this.dataSource.query<CashMovementRow[]>(
      'SELECT * FROM cash_movements WHERE reference = $1',
      [reference],
    );
    return rows[0] && movementFromRow(rows[0]);
  }

  private async madeBefore(
    kind: CashMovementKind,
    userId: string,
    amount: number,
    reference: string,
  ): Promise<CashMovementRecord> {
    const earlier = await this.findByReference(reference);
    if (earlier) return this.sameMovement(earlier, kind, userId, amount);
    throw codedError('USER_NOT_FOUND', `No trading account for user ${userId}`);
  }

  /** `earlier`, if it is the movement asked for again; REFERENCE_REUSED if it is another one. */
  private sameMovement(
    earlier: CashMovementRecord,
    kind: CashMovementKind,
    userId: string,
    amount: number,
  ): CashMovementRecord {
    if (earlier.kind === kind && earlier.userId === userId && earlier.amount === amount) return earlier;
    throw codedError(
      'REFERENCE_REUSED',
      `reference ${earlier.reference} names a ${earlier.kind} of ${earlier.amount} for user ${earlier.userId}: ` +
        'use a new one for another movement',
      { field: 'reference', movementId: earlier.id },
    );
  }
}
