import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Trading accounts move into the orders database, so that a buy is one local transaction:
 *
 * - `accounts`: each user's cash (spendable, the API's `User.credit`) and the cash reserved by
 *   open buys; `cash_movements`: the ledger every balance can be recomputed from.
 * - `stock_prices`: the latest trade of every stock, kept from the prices topic, for pricing orders.
 * - `outbox`: one row per message, naming the order and its status at the change; the order's
 *   immutable fields are joined in at delivery, under a lease rather than a held transaction.
 * - `orders.verify_by` / `verification_attempts`: when an IN_PROGRESS order's outcome is overdue.
 *
 * A deployment of the version before this one must be drained first (no order NEW, nothing left
 * in its outbox): docs/order-flow.md#moving-credit-into-the-orders-service gives the steps, and this
 * migration refuses to run otherwise, so no message or reservation of the old flow is lost.
 */
export class TradingAccounts1733200000000 implements MigrationInterface {
  name = 'TradingAccounts1733200000000';

  async up(runner: QueryRunner): Promise<void> {
    const [pending] = (await runner.query(
      `SELECT (SELECT count(*) FROM orders WHERE status = 'NEW')::int AS unanswered,
              (SELECT count(*) FROM outbox WHERE published_at IS NULL)::int AS undelivered`,
    )) as [{ unanswered: number; undelivered: number }];
    if (pending.unanswered > 0 || pending.undelivered > 0) {
      throw new Error(
        `the orders database still holds ${pending.unanswered} unanswered order(s) and ` +
          `${pending.undelivered} undelivered outbox message(s) of the previous version: let that ` +
          'version drain them first (docs/order-flow.md#moving-credit-into-the-orders-service)',
      );
    }

    await runner.query(`
      CREATE TABLE accounts (
        user_id bigint PRIMARY KEY,
        cash bigint NOT NULL DEFAULT 0 CHECK (cash >= 0),
        reserved bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Every change of an account's cash or reserved amount, as a positive amount of one kind:
    // cash = DEPOSIT - WITHDRAWAL - RESERVATION + RELEASE + PROCEEDS; reserved = RESERVATION - CAPTURE - RELEASE.
    await runner.query(`
      CREATE TABLE cash_movements (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        user_id bigint NOT NULL REFERENCES accounts (user_id),
        kind text NOT NULL CHECK (kind IN ('DEPOSIT', 'WITHDRAWAL', 'RESERVATION', 'CAPTURE', 'RELEASE', 'PROCEEDS')),
        amount bigint NOT NULL CHECK (amount > 0),
        order_id bigint,
        reference text,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((order_id IS NULL) = (kind IN ('DEPOSIT', 'WITHDRAWAL'))),
        CHECK ((reference IS NULL) = (kind NOT IN ('DEPOSIT', 'WITHDRAWAL')))
      )`);
    // An order moves each kind of money once; a deposit or withdrawal is made once per reference.
    await runner.query(
      'CREATE UNIQUE INDEX cash_movements_order_kind_key ON cash_movements (order_id, kind) WHERE order_id IS NOT NULL',
    );
    await runner.query(
      'CREATE UNIQUE INDEX cash_movements_reference_key ON cash_movements (reference) WHERE reference IS NOT NULL',
    );
    await runner.query('CREATE INDEX cash_movements_user_idx ON cash_movements (user_id, id)');

    await runner.query(`
      CREATE TABLE stock_prices (
        stock_id text PRIMARY KEY,
        symbol text NOT NULL,
        price bigint NOT NULL CHECK (price > 0),
        -- The trade's place in the exchange's order: yyyymmddhhmmss and the trade number.
        traded_at text NOT NULL,
        seq integer NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query('CREATE INDEX stock_prices_symbol_idx ON stock_prices (symbol)');

    await runner.query('DROP TABLE outbox');
    await runner.query(`
      CREATE TABLE outbox (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        order_id bigint NOT NULL REFERENCES orders (id),
        kind text NOT NULL CHECK (kind IN ('verification-request', 'status')),
        status text NOT NULL,
        message text NOT NULL,
        at timestamptz NOT NULL,
        trace_context jsonb,
        -- Taken by a relay until then; a relay that died lets its rows go when the lease runs out.
        leased_until timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        last_error text
      )`);

    await runner.query('ALTER TABLE orders ADD COLUMN verify_by timestamptz');
    await runner.query('ALTER TABLE orders ADD COLUMN verification_attempts integer NOT NULL DEFAULT 0');
    await runner.query(
      "CREATE INDEX orders_verify_by_idx ON orders (verify_by) WHERE status = 'IN_PROGRESS'",
    );
    await runner.query('DROP INDEX orders_unanswered_idx');
    await runner.query('ALTER TABLE orders DROP CONSTRAINT orders_status_check');
    await runner.query(
      "ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('DENIED', 'IN_PROGRESS', 'COMPLETED', 'FAILED', 'CANCELLED'))",
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE orders DROP CONSTRAINT orders_status_check');
    await runner.query(
      "ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('NEW', 'DENIED', 'IN_PROGRESS', 'COMPLETED', 'FAILED', 'CANCELLED'))",
    );
    await runner.query("CREATE INDEX orders_unanswered_idx ON orders (created_at) WHERE status = 'NEW'");
    await runner.query('DROP INDEX orders_verify_by_idx');
    await runner.query('ALTER TABLE orders DROP COLUMN verification_attempts');
    await runner.query('ALTER TABLE orders DROP COLUMN verify_by');
    await runner.query('DROP TABLE outbox');
    await runner.query(`
      CREATE TABLE outbox (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('kafka', 'credit', 'status')),
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        trace_context jsonb
      )`);
    await runner.query('CREATE INDEX outbox_pending_idx ON outbox (id) WHERE published_at IS NULL');
    await runner.query('DROP TABLE stock_prices');
    await runner.query('DROP TABLE cash_movements');
    await runner.query('DROP TABLE accounts');
  }
}
