import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPool, listMigrations } from '@warden/db';
import { TEST_DATABASE_URL, testSchema, type TestSchema } from '@warden/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { migrateUserSchema } from './support/database.js';
import { MIGRATIONS_DIR } from '../src/config.js';

let db: TestSchema | undefined;
afterEach(async () => {
  await db?.drop();
  db = undefined;
});

const migrationNames = () => listMigrations(MIGRATIONS_DIR).map((m) => m.name);

describe('@warden/db migrate on the user-service migrations', () => {
  it('applies every migration once; a second run is a no-op', async () => {
    db = await testSchema('user_migrate');
    expect(migrationNames()).not.toEqual([]);
    expect(await migrateUserSchema(db.pool, db.schema)).toEqual(migrationNames());
    expect(await migrateUserSchema(db.pool, db.schema)).toEqual([]);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM users');
    expect(rows[0].n).toBe(0);
  });

  it('deletes the idempotency records of the request-id-only scheme at deploy, keeping keyed ones', async () => {
    db = await testSchema('user_migrate');
    await migrateUserSchema(db.pool, db.schema);
    const record = (keyHash: string, fingerprint: string) =>
      db!.pool.query(
        `INSERT INTO idempotency_keys (key_hash, fingerprint, response, create_time)
         VALUES ($1, $2, '\\x00'::bytea, now())`,
        [keyHash, fingerprint],
      );
    await record('old', 'a'.repeat(64));
    await record('keyed', `v2.0123456789ab.${'b'.repeat(43)}`);
    const name = '20261130070000_idempotency_server_secret';
    await db.pool.query('DELETE FROM _prisma_migrations WHERE migration_name = $1', [name]);

    expect(await migrateUserSchema(db.pool, db.schema)).toEqual([name]);
    const { rows } = await db.pool.query('SELECT key_hash FROM idempotency_keys');
    expect(rows).toEqual([{ key_hash: 'keyed' }]);
  });

  it('rewrites emails stored before normalization (NFD, Unicode domain), keeping one that would merge two accounts', async () => {
    db = await testSchema('user_migrate');
    await migrateUserSchema(db.pool, db.schema);
    const insert = (id: string, email: string) =>
      db!.pool.query(
        `INSERT INTO users (id, email, display_name, password_hash, create_time, update_time)
         VALUES ($1, $2, '', 'h', now(), now())`,
        [id, email],
      );
    const ids = [1, 2, 3, 4].map((n) => `0190a0b0-0000-7000-8000-00000000000${n}`);
    await insert(ids[0]!, 'jose\u0301@bu\u0308cher.de');
    await insert(ids[1]!, 'ann@xn--bcher-kva.de');
    await insert(ids[2]!, 'ann@bücher.de');
    await insert(ids[3]!, 'jürgen@example.com');
    const lines: string[] = [];
    expect(await migrateUserSchema(db.pool, db.schema, (line) => lines.push(line))).toEqual([]);
    const { rows } = await db.pool.query('SELECT id, email FROM users ORDER BY id');
    expect(rows).toEqual([
      { id: ids[0], email: 'jos\u00e9@xn--bcher-kva.de' },
      { id: ids[1], email: 'ann@xn--bcher-kva.de' },
      { id: ids[2], email: 'ann@bücher.de' },
      { id: ids[3], email: 'jürgen@example.com' },
    ]);
    expect(lines).toEqual([
      `user ${ids[0]}: email normalized`,
      `user ${ids[2]}: email kept as stored, its normal form names another account`,
    ]);
  });

  it('records each migration like prisma migrate deploy: checksum = sha256 of the file, finished', async () => {
    db = await testSchema('user_migrate');
    await migrateUserSchema(db.pool, db.schema);
    const { rows } = await db.pool.query<{
      migration_name: string;
      checksum: string;
      finished_at: Date | null;
      rolled_back_at: Date | null;
      applied_steps_count: number;
    }>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name',
    );
    expect(rows.map((r) => r.migration_name)).toEqual(migrationNames());
    for (const row of rows) {
      const file = readFileSync(join(MIGRATIONS_DIR, row.migration_name, 'migration.sql'));
      expect(row.checksum).toBe(createHash('sha256').update(file).digest('hex'));
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.rolled_back_at).toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
  });

  it('lets concurrent migrate calls from separate connections apply each migration exactly once', async () => {
    db = await testSchema('user_migrate');
    const pools = [0, 1, 2].map(() =>
      createPool({ url: TEST_DATABASE_URL, schema: db!.schema, poolSize: 1 }),
    );
    try {
      const applied = await Promise.all(pools.map((pool) => migrateUserSchema(pool, db!.schema)));
      expect(applied.flat().sort()).toEqual(migrationNames());
      const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM _prisma_migrations');
      expect(rows[0].n).toBe(migrationNames().length);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });
});
