import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The list of stocks to price becomes a versioned list whose changes are announced:
 * - `stocks.delisted_at`: a delisted stock stays (orders and history name it) but is not priced.
 * - `stocks.version`: the version of the list at the stock's latest change.
 * - `listings_version`: one row, the list's version; every change takes its row lock and counts it
 *   up, so changes commit one after another in version order, and a snapshot of the list names
 *   the version it holds.
 * - `outbox`: each change's announcement, written in the change's transaction and delivered to the
 *   listings topic by the outbox relay.
 */
export class StockListings1733300000000 implements MigrationInterface {
  name = 'StockListings1733300000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE stocks
        ADD COLUMN delisted_at timestamptz,
        ADD COLUMN version bigint NOT NULL DEFAULT 0`);
    await runner.query(`
      CREATE TABLE listings_version (
        only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
        version bigint NOT NULL
      )`);
    await runner.query('INSERT INTO listings_version (version) VALUES (0)');
    await runner.query(`
      CREATE TABLE outbox (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        stock_id text NOT NULL,
        event jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        leased_until timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        last_error text
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE outbox');
    await runner.query('DROP TABLE listings_version');
    await runner.query('ALTER TABLE stocks DROP COLUMN delisted_at, DROP COLUMN version');
  }
}
