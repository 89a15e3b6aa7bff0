import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateOrders1732500000000 implements MigrationInterface {
  name = 'CreateOrders1732500000000';

  async up(runner: QueryRunner): Promise<void> {
    // NEW is internal: an order whose credit check is under way. It never leaves this service.
    await runner.query(`
      CREATE TABLE orders (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        side text NOT NULL CHECK (side IN ('BUY', 'SELL')),
        user_id bigint NOT NULL,
        stock_id text NOT NULL,
        quantity integer NOT NULL CHECK (quantity > 0),
        price bigint NOT NULL CHECK (price > 0),
        total bigint NOT NULL CHECK (total > 0),
        status text NOT NULL CHECK (status IN ('NEW', 'DENIED', 'IN_PROGRESS', 'COMPLETED', 'FAILED', 'CANCELLED')),
        message text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // The history query: newest first, for everyone or one user.
    await runner.query('CREATE INDEX orders_created_at_id_idx ON orders (created_at DESC, id DESC)');
    await runner.query(
      'CREATE INDEX orders_user_created_at_id_idx ON orders (user_id, created_at DESC, id DESC)',
    );
    await runner.query("CREATE INDEX orders_unanswered_idx ON orders (created_at) WHERE status = 'NEW'");

    await runner.query(`
      CREATE TABLE holdings (
        user_id bigint NOT NULL,
        stock_id text NOT NULL,
        quantity bigint NOT NULL DEFAULT 0,
        reserved bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, stock_id),
        CHECK (reserved >= 0 AND quantity >= reserved)
      )`);

    // Transactional outbox: written in the same transaction as the state change it announces.
    await runner.query(`
      CREATE TABLE outbox (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('kafka', 'credit', 'status')),
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        last_error text
      )`);
    await runner.query('CREATE INDEX outbox_pending_idx ON outbox (id) WHERE published_at IS NULL');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE outbox');
    await runner.query('DROP TABLE holdings');
    await runner.query('DROP TABLE orders');
  }
}
