import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateListings1732200000000 implements MigrationInterface {
  name = 'CreateListings1732200000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE listings (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        user_id bigint NOT NULL,
        listing_type text NOT NULL CHECK (listing_type IN ('RENT', 'SALE')),
        price bigint NOT NULL CHECK (price > 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Newest first, ties broken by id: for all listings and for one owner's.
    await runner.query('CREATE INDEX listings_created_at_id_idx ON listings (created_at DESC, id DESC)');
    await runner.query(
      'CREATE INDEX listings_user_created_at_id_idx ON listings (user_id, created_at DESC, id DESC)',
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE listings');
  }
}
