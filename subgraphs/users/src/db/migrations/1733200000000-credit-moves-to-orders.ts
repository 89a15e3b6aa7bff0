import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Credit belongs to the orders service's trading accounts now; the users database keeps identity
 * and profile only. On a database that holds credit, `npm run move-credit` must have copied it to
 * the orders database first (it leaves `credit_handover` behind): this migration refuses to drop
 * money that was not moved.
 */
export class CreditMovesToOrders1733200000000 implements MigrationInterface {
  name = 'CreditMovesToOrders1733200000000';

  async up(runner: QueryRunner): Promise<void> {
    const [state] = (await runner.query(
      `SELECT (SELECT count(*) FROM users WHERE credit > 0)::int
            + (SELECT count(*) FROM credit_reservations)::int
            + (SELECT count(*) FROM credit_deposits)::int AS money_rows,
              to_regclass('credit_handover') IS NOT NULL AS handed_over`,
    )) as [{ money_rows: number; handed_over: boolean }];
    if (state.money_rows > 0 && !state.handed_over) {
      throw new Error(
        'the users database still holds credit: run `npm run move-credit` to move it into the orders ' +
          'database first (docs/order-flow.md#moving-credit-into-the-orders-service)',
      );
    }
    await runner.query('DROP TABLE credit_deposits');
    await runner.query('DROP TABLE credit_reservations');
    await runner.query('ALTER TABLE users DROP COLUMN credit');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE users ADD COLUMN credit bigint NOT NULL DEFAULT 0 CHECK (credit >= 0)');
    await runner.query(`
      CREATE TABLE credit_reservations (
        order_id text PRIMARY KEY,
        user_id bigint NOT NULL REFERENCES users (id),
        amount bigint NOT NULL CHECK (amount > 0),
        status text NOT NULL CHECK (status IN ('RESERVED', 'DENIED', 'CAPTURED', 'RELEASED')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query('CREATE INDEX credit_reservations_user_idx ON credit_reservations (user_id, status)');
    await runner.query(`
      CREATE TABLE credit_deposits (
        order_id text PRIMARY KEY,
        user_id bigint NOT NULL REFERENCES users (id),
        amount bigint NOT NULL CHECK (amount > 0),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }
}
