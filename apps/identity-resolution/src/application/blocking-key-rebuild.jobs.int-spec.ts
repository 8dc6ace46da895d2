import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataSource } from 'typeorm';
import { inTransaction } from '@clinmesh/event-runtime';
import { createLogger } from '@clinmesh/observability';
import { AuditTrail, AuditTrailTable1732200000001 } from '@clinmesh/security';
import { TestDatabase, createTestDatabase, testEnvironment, uniqueName, waitFor } from '@clinmesh/testing';
import { generateUsRegistrations } from '@clinmesh/empi';
import { PersonIndexRepository } from '../adapters/persistence/person-index.repository';
import { IDENTITY_MIGRATIONS } from '../adapters/persistence/identity.migrations';
import { KeyRebuildJobRepository } from '../adapters/persistence/key-rebuild-job.repository';
import { KeyRebuildRunningError } from '../domain/identity.errors';
import { BlockingKeyRebuild } from './blocking-key.rebuild';
import { BlockingKeyRebuildJobs } from './blocking-key-rebuild.jobs';
import { MasterPatientIndex } from './master-patient-index';
import type { IndexTransaction } from './match-parameters.commands';

/**
 * The rebuild as a job on real PostgreSQL: its row says how far it got and how it ended; one runs at a
 * time, also across two job runners over one database (two replicas); a graceful stop ends it between
 * pages as `interrupted`; an error ends it as `failed` with the error's code; a `running` row whose
 * heartbeat is stale (its process crashed) is marked `interrupted` by the next start, which then runs.
 * Pages are held at a gate so each state is seen while it lasts, not raced. How each job ended is in the
 * audit trail (a real one, on the same database) under the operator who started it.
 */
describe('blocking-key rebuild jobs on PostgreSQL', { timeout: 300_000 }, () => {
  const env = testEnvironment();
  let db: DataSource;
  let testDb: TestDatabase | undefined;
  const index = new MasterPatientIndex();
  const records = generateUsRegistrations({ seed: 212, persons: 120 }).map((g) => g.record);
  const logger = createLogger('identity-resolution-test', 'silent');

  /** Index transactions that wait at a gate until it opens (each page's, and the first's is the one that matters). */
  const gated = () => {
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => { open = resolve; });
    const tx: IndexTransaction = async (work) => {
      await gate;
      return inTransaction(db, (uow) => work(new PersonIndexRepository(uow)));
    };
    return { tx, open: () => open() };
  };
  const runner = (tx: IndexTransaction, options = {}) =>
    new BlockingKeyRebuildJobs(new BlockingKeyRebuild(index, 50), tx, new KeyRebuildJobRepository(db), new AuditTrail(db), logger, options);
  /** The audit entry saying how job `id` ended: actor, outcome, state, records rekeyed. */
  const endedAudit = async (id: string) =>
    (await db.query(`SELECT actor, outcome, details->>'state' AS state, (details->>'rekeyed')::int AS rekeyed, details->>'error' AS error
                       FROM cm_audit WHERE action = 'blocking-key-rebuild-ended' AND resource = $1`, [`identity/blocking-key-rebuilds/${id}`]))
      .map((a: Record<string, unknown>) => [a.actor, a.outcome, a.state, a.rekeyed, a.error]);

  before(async () => {
    testDb = await createTestDatabase(env, uniqueName('ir_rekey_jobs'));
    db = new DataSource({ type: 'postgres', url: testDb.url, migrationsTableName: 'cm_migrations', extra: { max: 6 }, migrations: [...IDENTITY_MIGRATIONS, AuditTrailTable1732200000001] });
    await db.initialize();
    await db.runMigrations({ transaction: 'all' });
    await inTransaction(db, async (uow) => {
      const repo = new PersonIndexRepository(uow);
      await repo.candidates.lockKeys([...new Set(records.flatMap((r) => index.blockingKeysOf(r)))]);
      return index.assignChunk(repo, records.map((record) => ({ record, reviewItemId: `rv-${record.recordId}` })));
    });
    // Taken back to no keys at all, so every record is rekeyed and every page has work.
    await db.query('DELETE FROM empi_key');
    await db.query(`UPDATE empi_record SET keys = '{}'`);
  });
  after(async () => {
    await db?.destroy();
    await testDb?.drop();
  });

  it('runs in the background with its progress on its row; a second start, here or on another replica, is refused naming it; it ends done', async () => {
    const gate = gated();
    const jobs = runner(gate.tx);
    const job = await jobs.start('operator-a');
    assert.deepEqual([job.state, job.requestedBy, job.progress.records, job.finishedAt], ['running', 'operator-a', 0, null]);
    for (const other of [jobs, runner(gate.tx)]) {
      await assert.rejects(other.start('operator-b'), (e: unknown) => e instanceof KeyRebuildRunningError && (e.options.details as { id: string }).id === job.id);
    }
    gate.open();
    await jobs.whenFinished();
    const done = await jobs.get(job.id);
    const [{ stored }] = await db.query('SELECT count(*)::int AS stored FROM empi_record');
    assert.equal(done.state, 'done');
    assert.deepEqual([done.progress.records, done.progress.rekeyed, done.progress.skipped, done.progress.pages], [stored, stored, 0, Math.ceil(stored / 50)]);
    const [{ keys }] = await db.query('SELECT count(*)::int AS keys FROM empi_key');
    assert.equal(done.progress.keysAdded, keys);
    assert.ok(done.finishedAt && done.error === null);
    assert.deepEqual(await endedAudit(job.id), [['operator-a', 'allowed', 'done', stored, null]]);

    // Nothing runs now: a new start runs, and finds nothing left to change.
    const again = runner(gate.tx);
    const second = await again.start('operator-b');
    await again.whenFinished();
    assert.deepEqual([(await again.get(second.id)).state, (await again.get(second.id)).progress.rekeyed], ['done', 0]);
  });

  it('a graceful stop ends the running job between pages as interrupted, keeping how far it got; the next start finishes the work', async () => {
    await db.query('DELETE FROM empi_key');
    await db.query(`UPDATE empi_record SET keys = '{}'`);
    const gate = gated();
    const jobs = runner(gate.tx);
    const job = await jobs.start('operator-a');
    const stopping = jobs.stop();
    gate.open();
    await stopping;
    const stopped = await jobs.get(job.id);
    assert.deepEqual([stopped.state, stopped.error, stopped.progress.pages, stopped.progress.rekeyed], ['interrupted', 'the service stopped', 1, 50]);
    assert.deepEqual(await endedAudit(job.id), [['operator-a', 'error', 'interrupted', 50, 'the service stopped']]);

    const next = runner(gate.tx);
    const rerun = await next.start('operator-a');
    await next.whenFinished();
    const [{ stored }] = await db.query('SELECT count(*)::int AS stored FROM empi_record');
    assert.deepEqual([(await next.get(rerun.id)).state, (await next.get(rerun.id)).progress.rekeyed], ['done', stored - 50]);
  });

  it('an error ends the job as failed with its code; a running row without a heartbeat for longer than the limit is marked interrupted by the next start', async () => {
    const failing: IndexTransaction = () => Promise.reject(Object.assign(new Error('connection reset while reading a page'), { code: '08006' }));
    const jobs = runner(failing);
    const job = await jobs.start('operator-a');
    await jobs.whenFinished();
    const failed = await jobs.get(job.id);
    assert.deepEqual([failed.state, failed.error], ['failed', '08006']);
    assert.deepEqual(await endedAudit(job.id), [['operator-a', 'error', 'failed', 0, '08006']]);

    // A crashed process's job: still `running`, its last heartbeat a minute old.
    await db.query(`INSERT INTO empi_key_rebuild (id, requested_by, heartbeat_at) VALUES ('crashed', 'operator-c', now() - interval '1 minute')`);
    const live = runner(gated().tx, { staleAfterMs: 120_000 });
    await assert.rejects(live.start('operator-a'), KeyRebuildRunningError, 'a minute is within a two-minute limit: it may still be running');
    const gate = gated();
    const takeover = runner(gate.tx, { staleAfterMs: 30_000 });
    const started = await takeover.start('operator-a');
    const crashed = await takeover.get('crashed');
    assert.equal(crashed.state, 'interrupted');
    assert.match(crashed.error ?? '', /no progress for 30 s/);
    gate.open();
    await takeover.whenFinished();
    await waitFor(async () => (await takeover.get(started.id)).state === 'done', { what: 'the takeover run to end' });
  });
});
