import { createDataSource, databaseName, dropDatabase, openDatabase } from '@brokerage/postgres';
import { EntitySchema, type MigrationInterface, type QueryRunner } from 'typeorm';
import { testDatabaseUrl, testLogger } from '../../../test/support/services';

interface Note {
  id: string;
  body: string;
}

const NoteEntity = new EntitySchema<Note>({
  name: 'Note',
  tableName: 'notes',
  columns: {
    id: { type: 'bigint', primary: true, generated: 'increment' },
    body: { type: 'text' },
  },
});

class CreateNotes1700000000000 implements MigrationInterface {
  name = 'CreateNotes1700000000000';
  async up(runner: QueryRunner) {
    await runner.query(
      'CREATE TABLE notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text NOT NULL)',
    );
  }
  async down(runner: QueryRunner) {
    await runner.query('DROP TABLE notes');
  }
}

describe('PostgreSQL through TypeORM migrations', () => {
  const url = testDatabaseUrl('smoke');
  const logger = testLogger('postgres-smoke');
  const open = () =>
    openDatabase(
      createDataSource({ url, entities: [NoteEntity], migrations: [CreateNotes1700000000000], logger }),
      url,
    );

  afterAll(() => dropDatabase(url));

  it('creates the database, applies the migration once even when two replicas start together, and stores a row', async () => {
    const [first, second] = await Promise.all([open(), open()]);
    try {
      const applied = await first.query<Array<{ name: string }>>('SELECT name FROM migrations');
      expect(applied.map(({ name }) => name)).toEqual(['CreateNotes1700000000000']);

      const saved = await first.getRepository(NoteEntity).save({ body: 'hello' });
      // bigint ids come back as strings: they may not fit a JavaScript number.
      expect(typeof saved.id).toBe('string');
      const read = await second.getRepository(NoteEntity).findOneByOrFail({ id: saved.id });
      expect(read.body).toBe('hello');
      expect(databaseName(url)).toMatch(/^test_smoke_/);
    } finally {
      await Promise.all([first.destroy(), second.destroy()]);
    }
  });

  it('re-opening an up-to-date database applies nothing and keeps the data', async () => {
    const dataSource = await open();
    try {
      const rows = await dataSource.query<Array<{ count: string }>>('SELECT count(*) FROM notes');
      expect(rows[0]!.count).toBe('1');
      expect(await dataSource.showMigrations()).toBe(false);
    } finally {
      await dataSource.destroy();
    }
  });
});
