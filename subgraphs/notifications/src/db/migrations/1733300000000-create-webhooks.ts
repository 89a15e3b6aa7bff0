import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateWebhooks1733300000000 implements MigrationInterface {
  name = 'CreateWebhooks1733300000000';

  async up(runner: QueryRunner): Promise<void> {
    // The secret is kept as it is: every delivery is signed with it (HMAC needs the key itself).
    await runner.query(`
      CREATE TABLE webhook_endpoints (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        user_id bigint NOT NULL,
        url text NOT NULL,
        events text[] NOT NULL CHECK (cardinality(events) > 0),
        secret text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        removed_at timestamptz
      )`);
    await runner.query(
      'CREATE INDEX webhook_endpoints_user_idx ON webhook_endpoints (user_id, id) WHERE removed_at IS NULL',
    );

    // One row per (event, endpoint): written before the event's Kafka offset is committed, and
    // attempted until delivered or given up. body is the exact JSON sent (and signed) every time.
    await runner.query(`
      CREATE TABLE webhook_deliveries (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        endpoint_id bigint NOT NULL REFERENCES webhook_endpoints (id),
        user_id bigint NOT NULL,
        event_id text NOT NULL,
        event text NOT NULL,
        order_id bigint NOT NULL,
        event_at timestamptz NOT NULL,
        body text NOT NULL,
        status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED', 'CANCELLED')),
        attempts integer NOT NULL DEFAULT 0,
        last_response_code integer,
        last_error text,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        leased_until timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        UNIQUE (event_id, endpoint_id)
      )`);
    // What is due, and what holds an order's later events back.
    await runner.query(
      "CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'PENDING'",
    );
    await runner.query(
      `CREATE INDEX webhook_deliveries_order_idx ON webhook_deliveries (endpoint_id, order_id, event_at, id)
         WHERE status = 'PENDING'`,
    );
    // Attempts under way, counted per endpoint (every notifier replica's).
    await runner.query(
      `CREATE INDEX webhook_deliveries_leased_idx ON webhook_deliveries (endpoint_id)
         WHERE status = 'PENDING' AND leased_until IS NOT NULL`,
    );
    await runner.query('CREATE INDEX webhook_deliveries_user_idx ON webhook_deliveries (user_id, id DESC)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE webhook_deliveries');
    await runner.query('DROP TABLE webhook_endpoints');
  }
}
