import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataSource } from 'typeorm';
import { createLogger } from '@clinmesh/observability';
import { MigratedDatabases, testEnvironment, waitFor } from '@clinmesh/testing';
import { EVENT_RUNTIME_MIGRATIONS } from '../persistence/migrations';
import { OutboxVacuum } from './outbox-vacuum';

/** The outbox's vacuum and dead-row figures as PostgreSQL's statistics report them. */
async function outboxStats(db: DataSource): Promise<{ vacuums: number; dead: number }> {
  const [row] = await db.query(`SELECT vacuum_count::int AS vacuums, n_dead_tup::int AS dead FROM pg_stat_user_tables WHERE relname = 'cm_outbox'`);
  return row;
}

/** `n` rows written to the outbox and removed again, as the relay moves what it published. */
async function publishAndRemove(db: DataSource, n: number, label: string): Promise<void> {
  await db.query(
    `INSERT INTO cm_outbox (event_id, topic, message_key, value, headers, tier_rank)
     SELECT $1 || g, 'clinical.test.routine', 'k' || (g % 7), convert_to(repeat('x', 400), 'UTF8'), '{}'::jsonb, 2 FROM generate_series(1, $2) AS g`, [label, n]);
  await db.query(`DELETE FROM cm_outbox WHERE event_id LIKE $1 || '%'`, [label]);
}

describe('outbox vacuum: the relay vacuums cm_outbox behind itself', { timeout: 120_000 }, () => {
  const databases = new MigratedDatabases(testEnvironment(), EVENT_RUNTIME_MIGRATIONS);
  const logger = createLogger('outbox-vacuum-spec', 'silent');
  let db: DataSource;
  before(async () => {
    db = await databases.create('rt_outbox_vacuum');
  });
  after(() => databases.dropAll());

  it('after every 2,000 rows removed it vacuums once, and the dead rows are gone; fewer rows start no pass', async () => {
    const vacuum = new OutboxVacuum(db, logger, 2000);
    await publishAndRemove(db, 1500, 'a-');
    vacuum.removedRows(1500);
    assert.equal(vacuum.passes, 0, 'below the threshold: no pass');
    await waitFor(async () => (await outboxStats(db)).dead >= 1500, { what: 'the dead rows counted', timeoutMs: 20_000, intervalMs: 50 });
    const before = await outboxStats(db);

    await publishAndRemove(db, 1000, 'b-');
    vacuum.removedRows(1000);
    assert.equal(vacuum.passes, 1, '2,500 rows removed: one pass');
    vacuum.removedRows(2500);
    assert.equal(vacuum.passes, 1, 'a pass under way is not doubled');
    await vacuum.idle();
    await waitFor(async () => (await outboxStats(db)).vacuums > before.vacuums, { what: 'the vacuum counted', timeoutMs: 20_000, intervalMs: 50 });
    assert.equal((await outboxStats(db)).dead, 0, 'the published rows no longer lie in the relay\'s scan');
  });

  it('turned off (0), it never vacuums', async () => {
    const vacuum = new OutboxVacuum(db, logger, 0);
    vacuum.removedRows(1_000_000);
    await vacuum.idle();
    assert.equal(vacuum.passes, 0);
  });
});
