import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sign-up and sign-in: a user's username (unique whatever its case) and argon2id password hash,
 * and their sessions, each a family of refresh tokens stored only as SHA-256 hashes. Users created
 * before (or by an admin without credentials) have neither and cannot sign in.
 */
export class SignIn1733400000000 implements MigrationInterface {
  name = 'SignIn1733400000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE users
        ADD COLUMN username text CHECK (username ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$'),
        ADD COLUMN password_hash text,
        ADD COLUMN admin boolean NOT NULL DEFAULT false,
        ADD CONSTRAINT users_credentials_together CHECK ((username IS NULL) = (password_hash IS NULL))`);
    await runner.query('CREATE UNIQUE INDEX users_username_key ON users (lower(username))');
    await runner.query(`
      CREATE TABLE sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id bigint NOT NULL REFERENCES users (id),
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        revoked_reason text CHECK (revoked_reason IN ('SIGN_OUT', 'SIGN_OUT_EVERYWHERE', 'PASSWORD_CHANGED', 'REFRESH_TOKEN_REUSED', 'CREDENTIALS_RESET'))
      )`);
    await runner.query('CREATE INDEX sessions_user_idx ON sessions (user_id)');
    await runner.query(`
      CREATE TABLE refresh_tokens (
        token_hash bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),
        session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        rotated_at timestamptz
      )`);
    await runner.query('CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE refresh_tokens');
    await runner.query('DROP TABLE sessions');
    await runner.query('DROP INDEX users_username_key');
    await runner.query(
      'ALTER TABLE users DROP CONSTRAINT users_credentials_together, DROP COLUMN admin, DROP COLUMN password_hash, DROP COLUMN username',
    );
  }
}
