import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateUsers1732200000000 implements MigrationInterface {
  name = 'CreateUsers1732200000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE users (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
        credit bigint NOT NULL DEFAULT 0 CHECK (credit >= 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Pages are newest first with ties broken by id.
    await runner.query('CREATE INDEX users_created_at_id_idx ON users (created_at DESC, id DESC)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE users');
  }
}
