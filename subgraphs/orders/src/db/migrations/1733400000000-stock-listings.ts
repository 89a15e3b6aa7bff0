import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `stock_listings`: the orders service's own view of the list of stocks, kept from the stocks
 * service's listings topic, so that a buy of a delisted stock is refused by the statement that
 * would place it. A stock with no row here has never been announced (it was listed before the
 * announcements began) and counts as listed. `version` is the version of the owner's list at the
 * stock's latest change: an announcement older than the one applied changes nothing.
 */
export class StockListings1733400000000 implements MigrationInterface {
  name = 'StockListings1733400000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE stock_listings (
        stock_id text PRIMARY KEY,
        symbol text NOT NULL,
        delisted_at timestamptz,
        version bigint NOT NULL CHECK (version > 0),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE stock_listings');
  }
}
