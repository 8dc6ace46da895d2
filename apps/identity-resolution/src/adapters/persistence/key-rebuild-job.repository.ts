import { MigrationInterface, QueryRunner, DataSource } from 'typeorm';
import { inTransaction } from '@clinmesh/event-runtime';
import type { BlockingKeyRebuildResult, KeyRebuildJob, KeyRebuildJobPort, KeyRebuildState } from '../../domain/key-rebuild-job.model';
import { isoTime, isoTimeOrNull } from './row-times';

/** Blocking-key rebuild jobs in identity-resolution's database; each call is its own short transaction. */
export class KeyRebuildJobRepository implements KeyRebuildJobPort {
  constructor(private readonly db: DataSource) {}

  begin(id: string, requestedBy: string, staleAfterMs: number): Promise<{ started: KeyRebuildJob } | { running: KeyRebuildJob }> {
    return inTransaction(this.db, async (uow) => {
      await uow.execute(
        `UPDATE empi_key_rebuild SET state = 'interrupted', finished_at = clock_timestamp(), error = 'no progress for ' || $1::int / 1000 || ' s: its process stopped'
          WHERE state = 'running' AND heartbeat_at < clock_timestamp() - make_interval(secs => $1::int / 1000.0)`,
        [Math.round(staleAfterMs)],
      );
      // The partial unique index admits one running job: a second start (here or on another replica) inserts nothing.
      const inserted = await uow.query<Record<string, unknown>>(
        `INSERT INTO empi_key_rebuild (id, requested_by) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`, [id, requestedBy]);
      if (inserted[0]) return { started: toJob(inserted[0]) };
      const running = await uow.query<Record<string, unknown>>(`SELECT ${COLUMNS} FROM empi_key_rebuild WHERE state = 'running'`);
      return { running: toJob(running[0]) };
    });
  }

  async progress(id: string, progress: BlockingKeyRebuildResult): Promise<void> {
    await inTransaction(this.db, (uow) => uow.execute(
      `UPDATE empi_key_rebuild SET progress = $2::jsonb, heartbeat_at = clock_timestamp() WHERE id = $1 AND state = 'running'`, [id, JSON.stringify(progress)]));
  }

  finish(id: string, state: Exclude<KeyRebuildState, 'running'>, progress: BlockingKeyRebuildResult, error: string | null): Promise<KeyRebuildJob> {
    return inTransaction(this.db, async (uow) => toJob((await uow.query<Record<string, unknown>>(
      `UPDATE empi_key_rebuild SET state = $2, progress = $3::jsonb, error = $4, heartbeat_at = clock_timestamp(), finished_at = clock_timestamp()
        WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, state, JSON.stringify(progress), error],
    ))[0]));
  }

  get(id: string): Promise<KeyRebuildJob | undefined> {
    return inTransaction(this.db, async (uow) => {
      const rows = await uow.query<Record<string, unknown>>(`SELECT ${COLUMNS} FROM empi_key_rebuild WHERE id = $1`, [id]);
      return rows[0] ? toJob(rows[0]) : undefined;
    });
  }

  recent(limit: number): Promise<KeyRebuildJob[]> {
    return inTransaction(this.db, async (uow) =>
      (await uow.query<Record<string, unknown>>(`SELECT ${COLUMNS} FROM empi_key_rebuild ORDER BY started_at DESC, id LIMIT $1`, [limit])).map(toJob));
  }
}

const COLUMNS = 'id, state, requested_by, started_at, heartbeat_at, finished_at, progress, error';

function toJob(r: Record<string, unknown>): KeyRebuildJob {
  return {
    id: String(r.id), state: r.state as KeyRebuildState, requestedBy: String(r.requested_by), startedAt: isoTime(r.started_at), heartbeatAt: isoTime(r.heartbeat_at),
    finishedAt: isoTimeOrNull(r.finished_at),
    progress: r.progress as BlockingKeyRebuildResult, error: (r.error as string | null) ?? null,
  };
}

export class EmpiKeyRebuildJobs1732200001500 implements MigrationInterface {
  name = 'EmpiKeyRebuildJobs1732200001500';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE IF NOT EXISTS empi_key_rebuild (
      id text PRIMARY KEY, state text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done', 'failed', 'interrupted')),
      requested_by text NOT NULL, started_at timestamptz NOT NULL DEFAULT clock_timestamp(), heartbeat_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      finished_at timestamptz NULL,
      progress jsonb NOT NULL DEFAULT '{"records":0,"rekeyed":0,"keysAdded":0,"keysRemoved":0,"skipped":0,"pages":0}'::jsonb, error text NULL)`);
    await q.query(`CREATE UNIQUE INDEX IF NOT EXISTS empi_key_rebuild_one_running ON empi_key_rebuild ((true)) WHERE state = 'running'`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS empi_key_rebuild');
  }
}
