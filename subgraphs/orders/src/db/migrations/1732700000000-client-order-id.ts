import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The client's own order id, unique per user, so that a request sent again places nothing new.
 * The index is partial: orders placed without one (all of them before this) are not in it.
 *
 * A plain CREATE INDEX blocks writes to orders while it builds. On a large table, add the column
 * and build the index with CREATE UNIQUE INDEX CONCURRENTLY (outside a transaction) by hand
 * first: this migration then finds both and only records itself.
 */
export class ClientOrderId1732700000000 implements MigrationInterface {
  name = 'ClientOrderId1732700000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE orders ADD COLUMN IF NOT EXISTS client_order_id text');
    await runner.query(
      `CREATE UNIQUE INDEX IF NOT EXISTS orders_user_client_order_id_key
         ON orders (user_id, client_order_id) WHERE client_order_id IS NOT NULL`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX orders_user_client_order_id_key');
    await runner.query('ALTER TABLE orders DROP COLUMN client_order_id');
  }
}
