import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateCreditLedger1732400000000 implements MigrationInterface {
  name = 'CreateCreditLedger1732400000000';

  async up(runner: QueryRunner): Promise<void> {
    // One row per order that asked for credit; the order id makes every operation idempotent.
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

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE credit_deposits');
    await runner.query('DROP TABLE credit_reservations');
  }
}
