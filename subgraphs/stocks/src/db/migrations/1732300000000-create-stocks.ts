import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateStocks1732300000000 implements MigrationInterface {
  name = 'CreateStocks1732300000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE stocks (
        id text PRIMARY KEY CHECK (id ~ '^[0-9]{1,20}$'),
        symbol text NOT NULL UNIQUE CHECK (symbol ~ '^[a-z0-9_]{1,32}$'),
        name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE stocks');
  }
}
