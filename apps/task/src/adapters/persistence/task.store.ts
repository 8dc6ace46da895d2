import { DataSource } from 'typeorm';
import { UnitOfWork } from '@clinmesh/event-runtime';
import { Tier } from '@clinmesh/topology';
import { Task, TaskHistoryEntry } from '../../domain/task';
import { DueTimer, TaskQuery, TaskReader, TaskStore } from '../../domain/task.ports';

type Row = Record<string, unknown>;
const ms = (v: unknown): number | null => (v === null || v === undefined ? null : new Date(v as string).getTime());
const ts = (v: number | null | undefined) => (v === null || v === undefined ? null : new Date(v).toISOString());

export function toTask(r: Row): Task {
  return {
    taskId: r.task_id as string, workflow: r.workflow as string, workflowVersion: Number(r.workflow_version), state: r.state as string, fhirStatus: r.status as string,
    businessStatus: r.business_status as string, tier: r.tier as Tier, epid: r.epid as string, mergedFromEpid: (r.merged_from_epid as string) ?? null,
    correlationId: r.correlation_id as string, sourceEventId: r.source_event_id as string, triggerKey: r.trigger_key as string, title: r.title as string,
    messageType: r.message_type as string, resourceType: r.resource_type as string, canonicalId: r.canonical_id as string, audiences: r.audiences as string[],
    owner: (r.owner as string) ?? null, dueAt: ms(r.due_at)!, startedAt: ms(r.started_at) ?? ms(r.created_at)!, createdAt: ms(r.created_at)!, updatedAt: ms(r.updated_at)!, version: Number(r.version),
    escalationRung: Number(r.escalation_rung), nextTimerAt: ms(r.next_timer_at), breachedAt: ms(r.breached_at),
    acknowledgement: (r.acknowledgement as Task['acknowledgement']) ?? null, completedAt: ms(r.completed_at), finding: (r.finding as string) ?? null,
    identifiedAt: ms(r.identified_at), communicatedBy: (r.communicated_by as string) ?? null, details: (r.details as Record<string, unknown>) ?? {},
  };
}

export const COLUMNS = `task_id, workflow, workflow_version, state, status, business_status, tier, epid, merged_from_epid, correlation_id, source_event_id, trigger_key, title,
  message_type, resource_type, canonical_id, audiences, owner, due_at, created_at, updated_at, version, escalation_rung, next_timer_at, breached_at, acknowledgement,
  completed_at, finding, identified_at, communicated_by, details, started_at`;

function values(t: Task): unknown[] {
  return [t.taskId, t.workflow, t.workflowVersion, t.state, t.fhirStatus, t.businessStatus, t.tier, t.epid, t.mergedFromEpid, t.correlationId, t.sourceEventId, t.triggerKey,
    t.title, t.messageType, t.resourceType, t.canonicalId, t.audiences, t.owner, ts(t.dueAt), ts(t.createdAt), ts(t.updatedAt), t.version, t.escalationRung,
    ts(t.nextTimerAt), ts(t.breachedAt), t.acknowledgement ? JSON.stringify(t.acknowledgement) : null, ts(t.completedAt), t.finding, ts(t.identifiedAt), t.communicatedBy,
    JSON.stringify(t.details ?? {}), ts(t.startedAt)];
}

const TASK_SQL = 'SELECT * FROM tk_task WHERE task_id = $1';

/** The task tables inside one unit of work (the only SQL of the task service's writes). */
export class PgTaskStore implements TaskStore {
  constructor(private readonly uow: UnitOfWork) {}

  async insertIfAbsent(t: Task): Promise<boolean> {
    const n = await this.uow.execute(
      `INSERT INTO tk_task (${COLUMNS}) VALUES (${Array.from({ length: 32 }, (_, i) => `$${i + 1}`).join(',')}) ON CONFLICT DO NOTHING`, values(t));
    return n > 0;
  }

  async get(taskId: string): Promise<Task | null> {
    const [r] = await this.uow.query<Row>(TASK_SQL, [taskId]);
    return r ? toTask(r) : null;
  }

  async byTriggerKey(key: string): Promise<Task | null> {
    const [r] = await this.uow.query<Row>('SELECT * FROM tk_task WHERE trigger_key = $1', [key]);
    return r ? toTask(r) : null;
  }

  async latestForCanonical(workflow: string, canonicalId: string, epid: string): Promise<Task | null> {
    const [r] = await this.uow.query<Row>('SELECT * FROM tk_task WHERE workflow = $1 AND canonical_id = $2 AND epid = $3 ORDER BY created_at DESC LIMIT 1 FOR UPDATE', [workflow, canonicalId, epid]);
    return r ? toTask(r) : null;
  }

  async update(t: Task, expectedVersion: number): Promise<boolean> {
    const n = await this.uow.execute(
      `UPDATE tk_task SET state = $2, status = $3, business_status = $4, epid = $5, merged_from_epid = $6, owner = $7, updated_at = $8, version = $9,
         escalation_rung = $10, next_timer_at = $11, breached_at = $12, acknowledgement = $13, completed_at = $14, finding = $15, identified_at = $16,
         communicated_by = $17, details = $18
       WHERE task_id = $1 AND version = $19`,
      [t.taskId, t.state, t.fhirStatus, t.businessStatus, t.epid, t.mergedFromEpid, t.owner, ts(t.updatedAt), t.version, t.escalationRung, ts(t.nextTimerAt),
        ts(t.breachedAt), t.acknowledgement ? JSON.stringify(t.acknowledgement) : null, ts(t.completedAt), t.finding, ts(t.identifiedAt), t.communicatedBy,
        JSON.stringify(t.details ?? {}), expectedVersion]);
    return n > 0;
  }

  async appendHistory(h: TaskHistoryEntry): Promise<void> {
    await this.uow.execute('INSERT INTO tk_task_history (task_id, at, actor, from_state, to_state, action, reason, details, event_id) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)',
      [h.taskId, ts(h.at), h.actor, h.fromState, h.toState, h.action, h.reason, JSON.stringify(h.details ?? {}), h.eventId]);
  }

  async linkEvent(eventId: string, taskId: string): Promise<void> {
    await this.uow.execute('INSERT INTO tk_task_event (event_id, task_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [eventId, taskId]);
  }

  async taskOfEvent(eventId: string): Promise<Task | null> {
    const [r] = await this.uow.query<Row>('SELECT t.* FROM tk_task_event e JOIN tk_task t ON t.task_id = e.task_id WHERE e.event_id = $1', [eventId]);
    return r ? toTask(r) : null;
  }

  async openTasksOfPatient(epid: string): Promise<Task[]> {
    const rows = await this.uow.query<Row>(`SELECT * FROM tk_task WHERE epid = $1 AND status NOT IN ('completed','cancelled','failed','entered-in-error','rejected') ORDER BY created_at FOR UPDATE`, [epid]);
    return rows.map(toTask);
  }

  async tasksMovedByMerge(survivor: string, mergedAway: string): Promise<Task[]> {
    const rows = await this.uow.query<Row>('SELECT * FROM tk_task WHERE epid = $1 AND merged_from_epid = $2 ORDER BY created_at FOR UPDATE', [survivor, mergedAway]);
    return rows.map(toTask);
  }

  async claimDueTimer(taskId: string, rung: number, now: number): Promise<Task | null> {
    const [r] = await this.uow.query<Row>(
      'SELECT * FROM tk_task WHERE task_id = $1 AND escalation_rung = $2 AND next_timer_at IS NOT NULL AND next_timer_at <= $3 FOR UPDATE SKIP LOCKED', [taskId, rung, ts(now)]);
    return r ? toTask(r) : null;
  }
}

const OPEN = `status NOT IN ('completed','cancelled','failed','entered-in-error','rejected')`;

const HISTORY_SQL = 'SELECT * FROM tk_task_history WHERE task_id = $1 ORDER BY seq';

function toHistoryEntry(r: Row): TaskHistoryEntry {
  return {
    taskId: r.task_id as string, at: ms(r.at)!, actor: r.actor as string, fromState: (r.from_state as string) ?? null, toState: r.to_state as string,
    action: r.action as string, reason: (r.reason as string) ?? null, details: (r.details as Record<string, unknown>) ?? {}, eventId: (r.event_id as string) ?? null,
  };
}

/** Worklist reads and the timers' due index, outside event transactions. */
export class PgTaskReader implements TaskReader {
  constructor(private readonly db: DataSource) {}

  async list(q: TaskQuery): Promise<Task[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => { params.push(value); where.push(sql.replace('?', `$${params.length}`)); };
    if (q.status?.length) add('status = ANY(?)', q.status);
    if (q.state) add('state = ?', q.state);
    if (q.workflow) add('workflow = ?', q.workflow);
    if (q.tier) add('tier = ?', q.tier);
    if (q.owner) add('owner = ?', q.owner);
    if (q.role) add('? = ANY(audiences)', q.role);
    if (q.epid) add('epid = ?', q.epid);
    if (q.correlationId) add('correlation_id = ?', q.correlationId);
    if (q.dueBefore !== undefined) add('due_at < ?', ts(q.dueBefore));
    if (q.breached === true) where.push('breached_at IS NOT NULL');
    if (q.breached === false) where.push('breached_at IS NULL');
    if (q.cursor) {
      params.push(ts(q.cursor.createdAt), q.cursor.taskId);
      where.push(`(created_at, task_id) < ($${params.length - 1}::timestamptz, $${params.length})`);
    }
    params.push(q.limit);
    const rows = await this.db.query(`SELECT * FROM tk_task ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, task_id DESC LIMIT $${params.length}`, params);
    return rows.map(toTask);
  }

  async get(taskId: string): Promise<Task | null> {
    const [r] = await this.db.query(TASK_SQL, [taskId]);
    return r ? toTask(r) : null;
  }

  /**
   * The task and its history on one snapshot (one REPEATABLE READ transaction that only reads): read one after the other,
   * a change committing in between showed a task older than the history listed with it (its finding before a
   * correction beside the correction's entry).
   */
  async withHistory(taskId: string): Promise<{ task: Task; history: TaskHistoryEntry[] } | null> {
    return this.db.transaction('REPEATABLE READ', async (m) => {
      const [r] = await m.query(TASK_SQL, [taskId]);
      if (!r) return null;
      return { task: toTask(r), history: ((await m.query(HISTORY_SQL, [taskId])) as Row[]).map(toHistoryEntry) };
    });
  }

  async dueTimers(now: number, limit: number): Promise<DueTimer[]> {
    const rows: Row[] = await this.db.query(
      'SELECT task_id, escalation_rung, correlation_id, tier, due_at, next_timer_at FROM tk_task WHERE next_timer_at IS NOT NULL AND next_timer_at <= $1 ORDER BY next_timer_at LIMIT $2',
      [ts(now), limit]);
    return rows.map((r) => ({ taskId: r.task_id as string, rung: Number(r.escalation_rung), correlationId: r.correlation_id as string, tier: r.tier as Tier, dueAt: ms(r.due_at)!, nextTimerAt: ms(r.next_timer_at)! }));
  }

  /** Open tasks by workflow, tier and age bucket (for the backlog gauge). */
  async backlogByAge(now: number): Promise<Array<{ workflow: string; tier: string; age: string; n: number }>> {
    const rows: Row[] = await this.db.query(
      `SELECT workflow, tier, CASE WHEN age < interval '15 minutes' THEN 'lt15m' WHEN age < interval '1 hour' THEN '15m-1h' WHEN age < interval '4 hours' THEN '1h-4h'
         WHEN age < interval '24 hours' THEN '4h-24h' ELSE 'gt24h' END AS age, count(*)::int AS n
       FROM (SELECT workflow, tier, $1::timestamptz - created_at AS age FROM tk_task WHERE ${OPEN}) t GROUP BY 1, 2, 3`, [ts(now)]);
    return rows.map((r) => ({ workflow: r.workflow as string, tier: r.tier as string, age: r.age as string, n: Number(r.n) }));
  }
}
