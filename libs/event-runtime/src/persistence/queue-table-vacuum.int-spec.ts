import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataSource } from 'typeorm';
import { MigratedDatabases, testEnvironment } from '@clinmesh/testing';
import { EVENT_RUNTIME_MIGRATIONS } from './migrations';
import { QUEUE_TABLE_AUTOVACUUM } from './queue-table-vacuum';

/** The table's storage parameters as PostgreSQL reports them (`name=value`). */
async function reloptions(db: DataSource, table: string): Promise<Record<string, string>> {
  const [row] = await db.query(`SELECT coalesce(reloptions, '{}') AS o FROM pg_class WHERE oid = $1::regclass`, [table]);
  return Object.fromEntries((row.o as string[]).map((kv) => kv.split('=') as [string, string]));
}

describe('queue-table autovacuum: the outbox is vacuumed by a fixed dead-row count, without cost delay', { timeout: 120_000 }, () => {
  const databases = new MigratedDatabases(testEnvironment(), EVENT_RUNTIME_MIGRATIONS);
  let db: DataSource;
  before(async () => {
    db = await databases.create('rt_queue_vacuum');
  });
  after(() => databases.dropAll());

  it('the runtime migrations give cm_outbox the queue-table settings, and revert them on the way down', async () => {
    const expected = Object.fromEntries(Object.entries(QUEUE_TABLE_AUTOVACUUM).map(([k, v]) => [k, String(v)]));
    assert.deepEqual(await reloptions(db, 'cm_outbox'), expected);
    // The published table is a log kept for its retention window, not a queue: server defaults.
    assert.deepEqual(await reloptions(db, 'cm_outbox_published'), {});
    await db.undoLastMigration({ transaction: 'all' });
    assert.deepEqual(await reloptions(db, 'cm_outbox'), {});
  });
});
