import { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { UnitOfWork } from '@clinmesh/event-runtime';
import { Task } from '../../domain/task';
import { TaskQuery, TaskRepositoryPort } from '../../domain/task.repository.port';

export class TaskRepository implements TaskRepositoryPort {
  constructor(private readonly uow: UnitOfWork) {}

  async createIfAbsent(t: Task): Promise<boolean> {
    const n = await this.uow.execute(
      `INSERT INTO tk_task (task_id, workflow, status, tier, epid, correlation_id, source_event_id, title, message_type, resource_type, canonical_id, audiences, due_at, created_at, version)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,to_timestamp($13 / 1000.0),to_timestamp($14 / 1000.0),$15) ON CONFLICT (task_id) DO NOTHING`,
      [t.taskId, t.workflow, t.status, t.tier, t.epid, t.correlationId, t.sourceEventId, t.title, t.messageType, t.resourceType, t.canonicalId, t.audiences, t.dueAt, t.createdAt, t.version],
    );
    return n > 0;
  }
}

/** Worklist reads (outside event transactions). */
export async function findTasks(db: DataSource, q: TaskQuery): Promise<Task[]> {
  const rows = await db.query(
    `SELECT * FROM tk_task WHERE ($1::text IS NULL OR epid = $1) AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR correlation_id = $3)
       AND ($4::text IS NULL OR workflow = $4) ORDER BY created_at DESC, task_id LIMIT $5`,
    [q.epid ?? null, q.status ?? null, q.correlationId ?? null, q.workflow ?? null, q.limit],
  );
  return rows.map((r: Record<string, unknown>) => ({
    taskId: r.task_id, workflow: r.workflow, status: r.status, tier: r.tier, epid: r.epid, correlationId: r.correlation_id,
    sourceEventId: r.source_event_id, title: r.title, messageType: r.message_type, resourceType: r.resource_type, canonicalId: r.canonical_id,
    audiences: r.audiences, dueAt: new Date(r.due_at as string).getTime(), createdAt: new Date(r.created_at as string).getTime(), version: Number(r.version),
  })) as Task[];
}

export class TaskTable1732200004000 implements MigrationInterface {
  name = 'TaskTable1732200004000';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE tk_task (task_id text PRIMARY KEY, workflow text NOT NULL, status text NOT NULL, tier text NOT NULL, epid text NOT NULL,
      correlation_id text NOT NULL, source_event_id text NOT NULL, title text NOT NULL, message_type text NOT NULL, resource_type text NOT NULL,
      canonical_id text NOT NULL, audiences text[] NOT NULL, due_at timestamptz NOT NULL, created_at timestamptz NOT NULL, version int NOT NULL)`);
    await q.query('CREATE INDEX tk_task_epid ON tk_task (epid, created_at DESC)');
    await q.query('CREATE INDEX tk_task_correlation ON tk_task (correlation_id)');
    await q.query('CREATE INDEX tk_task_status ON tk_task (status, due_at)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS tk_task');
  }
}
