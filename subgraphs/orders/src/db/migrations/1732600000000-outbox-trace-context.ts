import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The trace an outbox row was written in, so that its delivery continues that trace. */
export class OutboxTraceContext1732600000000 implements MigrationInterface {
  name = 'OutboxTraceContext1732600000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE outbox ADD COLUMN trace_context jsonb');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE outbox DROP COLUMN trace_context');
  }
}
