import { PREPARED, UnitOfWork, perUnitOfWork } from '@clinmesh/event-runtime';
import { ClinmeshError } from '@clinmesh/errors';
import { Task, TaskHistoryEntry } from '../../domain/task';
import { CanonicalRef, RoutedChunkNeeds, TaskStore } from '../../domain/task.ports';
import { COLUMNS, PgTaskStore, toTask } from './task.store';

// The chunk's writes run PREPARED. Reads by `= ANY($1)` stay unnamed: their generic plan does not know
// the array's length (1.4 ms a call against 0.3 planned each time, pg_stat_statements over a mixed feed).

type Row = Record<string, unknown>;
const ts = (v: number | null | undefined) => (v === null || v === undefined ? null : new Date(v).toISOString());
const refKey = (r: CanonicalRef) => `${r.workflow}\u0000${r.canonicalId}\u0000${r.epid}`;

/** The columns `PgTaskStore.update` writes: an update of a task changes these and nothing else. */
const UPDATABLE = ['state', 'fhirStatus', 'businessStatus', 'epid', 'mergedFromEpid', 'owner', 'updatedAt', 'version', 'escalationRung', 'nextTimerAt',
  'breachedAt', 'acknowledgement', 'completedAt', 'finding', 'identifiedAt', 'communicatedBy', 'details'] as const;

/** A tk_task row as JSON (jsonb_populate_recordset(NULL::tk_task, …) reads it by column name). */
function taskRow(t: Task): Row {
  return {
    task_id: t.taskId, workflow: t.workflow, workflow_version: t.workflowVersion, state: t.state, status: t.fhirStatus, business_status: t.businessStatus, tier: t.tier,
    epid: t.epid, merged_from_epid: t.mergedFromEpid, correlation_id: t.correlationId, source_event_id: t.sourceEventId, trigger_key: t.triggerKey, title: t.title,
    message_type: t.messageType, resource_type: t.resourceType, canonical_id: t.canonicalId, audiences: t.audiences, owner: t.owner, due_at: ts(t.dueAt),
    created_at: ts(t.createdAt), updated_at: ts(t.updatedAt), version: t.version, escalation_rung: t.escalationRung, next_timer_at: ts(t.nextTimerAt),
    breached_at: ts(t.breachedAt), acknowledgement: t.acknowledgement, completed_at: ts(t.completedAt), finding: t.finding, identified_at: ts(t.identifiedAt),
    communicated_by: t.communicatedBy, details: t.details ?? {}, started_at: ts(t.startedAt),
  };
}

/** The task as it reads back from the table (JSON columns round-tripped), so buffered and stored tasks look alike to a handler. */
function asStored(t: Task): Task {
  const task = {
    ...t, audiences: [...t.audiences], details: JSON.parse(JSON.stringify(t.details ?? {})),
    acknowledgement: t.acknowledgement ? JSON.parse(JSON.stringify(t.acknowledgement)) : null,
  } as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(task)) if (v === undefined) task[k] = null;
  return task as unknown as Task;
}

/**
 * A concurrent transaction wrote a row this chunk decided on (another replica inserted the same
 * trigger key, or changed a task since it was read): retriable, so the runtime re-runs the chunk
 * (record by record) and the re-run reads the committed row — as the one-by-one store would have.
 */
export function chunkRace(what: string): ClinmeshError {
  return new ClinmeshError('TASK.CHUNK_RACE', what, { retriable: true, status: 409 });
}

/**
 * Task's store for one consumer transaction (a chunk of events), written set-based, following
 * normalization's CanonicalChunkStore: `preload` (the consumer's prepare step) reads in one
 * statement every task the chunk's routed events need — by trigger key, and the newest task per
 * (workflow, canonical record, patient) for corrections, locked as `latestForCanonical` locks it —
 * the handlers read and change the buffered state, and `flush` (the complete step) writes new
 * tasks, changed tasks, history rows and event links in one statement (`FLUSH_SQL`), whatever the
 * chunk's size. Timers are columns of the task (next_timer_at); task events go out
 * through `ctx.emit` (the runtime's one outbox write).
 *
 * The result equals handling the events one by one in order: a read the buffer cannot answer
 * (another work queue's query, a key the preload did not cover) first writes what is buffered and
 * then asks the table (PgTaskStore's statement), so it sees every earlier change of the chunk.
 * An insert that meets a row committed meanwhile by another transaction, or an update whose
 * version moved, fails the chunk with a retriable TASK.CHUNK_RACE (the re-run reads that row).
 */
export class TaskChunkStore implements TaskStore {
  /** The store of this transaction (one per unit of work). */
  static readonly of = perUnitOfWork((uow) => new TaskChunkStore(uow));

  private readonly direct: PgTaskStore;
  /** Task id → the task as this transaction sees it (read, or changed and not yet written). */
  private readonly tasks = new Map<string, Task>();
  /** Task id → its version in the table (absent: inserted by this chunk, not yet written). */
  private readonly stored = new Map<string, number>();
  /** Trigger key → task id; null: known to have no task. */
  private readonly keys = new Map<string, string | null>();
  /** (workflow, canonical, epid) → the newest task's id; null: none. Known only for what was asked. */
  private readonly latest = new Map<string, string | null>();
  /** Event id → task id, for links this transaction knows. */
  private readonly knownLinks = new Map<string, string>();
  private readonly inserted = new Set<string>();
  private readonly changed = new Set<string>();
  private history: TaskHistoryEntry[] = [];
  private links = new Map<string, string>();

  private constructor(private readonly uow: UnitOfWork) {
    this.direct = new PgTaskStore(uow);
  }

  /** One statement for what a chunk of routed events reads (tasks by trigger key; newest per canonical, FOR UPDATE). */
  async preload(needs: RoutedChunkNeeds): Promise<void> {
    const keys = needs.triggerKeys.filter((k) => !this.keys.has(k));
    const refs = needs.canonicals.filter((r) => !this.latest.has(refKey(r)));
    if (!keys.length && !refs.length) return;
    await this.flushPending();
    const rows = refs.length
      ? await this.uow.query<Row & { via_latest: boolean }>(
        `WITH latest AS (
           SELECT t.* FROM tk_task t
            WHERE t.task_id IN (SELECT n.task_id FROM unnest($2::text[], $3::text[], $4::text[]) AS k(w, c, e)
              CROSS JOIN LATERAL (SELECT task_id FROM tk_task WHERE workflow = k.w AND canonical_id = k.c AND epid = k.e ORDER BY created_at DESC LIMIT 1) n)
            ORDER BY t.task_id FOR UPDATE OF t)
         SELECT true AS via_latest, latest.* FROM latest
         UNION ALL
         SELECT false, t.* FROM tk_task t WHERE t.trigger_key = ANY($1::text[])`,
        [keys, refs.map((r) => r.workflow), refs.map((r) => r.canonicalId), refs.map((r) => r.epid)])
      : (await this.uow.query<Row>('SELECT * FROM tk_task WHERE trigger_key = ANY($1::text[])', [keys])).map((r) => Object.assign(r, { via_latest: false }));
    for (const k of keys) this.keys.set(k, null);
    for (const r of refs) this.latest.set(refKey(r), null);
    for (const row of rows) {
      const { via_latest: viaLatest, ...columns } = row;
      const task = this.remember(toTask(columns));
      if (viaLatest) this.latest.set(refKey(task), task.taskId);
    }
  }

  async insertIfAbsent(t: Task): Promise<boolean> {
    if (this.tasks.has(t.taskId)) return false;
    const task = asStored(t);
    if (!this.keys.has(t.triggerKey)) {
      // A key no preload covered (a work-queue item): inserted now, as PgTaskStore does (one statement, no read first).
      if (!(await this.direct.insertIfAbsent(task))) return false;
      this.stored.set(task.taskId, task.version);
    } else if (this.keys.get(t.triggerKey)) {
      return false;
    } else {
      this.inserted.add(task.taskId);
    }
    this.tasks.set(task.taskId, task);
    this.keys.set(task.triggerKey, task.taskId);
    // The newest of its triple now, when that is known (an unknown triple is read from the table, after a flush, when asked).
    if (this.latest.has(refKey(task))) this.latest.set(refKey(task), task.taskId);
    return true;
  }

  async get(taskId: string): Promise<Task | null> {
    const known = this.tasks.get(taskId);
    if (known) return { ...known };
    await this.flushPending();
    const task = await this.direct.get(taskId);
    return task ? { ...this.remember(task) } : null;
  }

  async byTriggerKey(key: string): Promise<Task | null> {
    if (this.keys.has(key)) {
      const id = this.keys.get(key);
      return id ? { ...this.tasks.get(id)! } : null;
    }
    await this.flushPending();
    const task = await this.direct.byTriggerKey(key);
    this.keys.set(key, task?.taskId ?? null);
    return task ? { ...this.remember(task) } : null;
  }

  async latestForCanonical(workflow: string, canonicalId: string, epid: string): Promise<Task | null> {
    const key = refKey({ workflow, canonicalId, epid });
    if (this.latest.has(key)) {
      const id = this.latest.get(key);
      return id ? { ...this.tasks.get(id)! } : null;
    }
    await this.flushPending();
    const task = await this.direct.latestForCanonical(workflow, canonicalId, epid);
    this.latest.set(key, task?.taskId ?? null);
    return task ? { ...this.remember(task) } : null;
  }

  async update(t: Task, expectedVersion: number): Promise<boolean> {
    const current = this.tasks.get(t.taskId) ?? (await this.get(t.taskId));
    if (!current || current.version !== expectedVersion) return false;
    // Only what the UPDATE writes changes, as in the table.
    const next: Task = { ...current };
    for (const field of UPDATABLE) (next as unknown as Record<string, unknown>)[field] = t[field];
    const stored = asStored(next);
    this.tasks.set(stored.taskId, stored);
    if (current.epid !== stored.epid) {
      // A merge moved it: the newest task of either triple must be asked again.
      this.latest.delete(refKey(current));
      this.latest.delete(refKey(stored));
    }
    if (this.stored.has(stored.taskId)) this.changed.add(stored.taskId);
    return true;
  }

  async appendHistory(entry: TaskHistoryEntry): Promise<void> {
    this.history.push({ ...entry, details: JSON.parse(JSON.stringify(entry.details ?? {})) });
  }

  async linkEvent(eventId: string, taskId: string): Promise<void> {
    // ON CONFLICT DO NOTHING: the first link of an event stays.
    if (this.knownLinks.has(eventId)) return;
    this.knownLinks.set(eventId, taskId);
    this.links.set(eventId, taskId);
  }

  async taskOfEvent(eventId: string): Promise<Task | null> {
    await this.flushPending();
    const task = await this.direct.taskOfEvent(eventId);
    return task ? { ...this.remember(task) } : null;
  }

  async openTasksOfPatient(epid: string): Promise<Task[]> {
    await this.flushPending();
    return (await this.direct.openTasksOfPatient(epid)).map((t) => ({ ...this.remember(t) }));
  }

  async tasksMovedByMerge(survivor: string, mergedAway: string): Promise<Task[]> {
    await this.flushPending();
    return (await this.direct.tasksMovedByMerge(survivor, mergedAway)).map((t) => ({ ...this.remember(t) }));
  }

  async claimDueTimer(taskId: string, rung: number, now: number): Promise<Task | null> {
    await this.flushPending();
    const task = await this.direct.claimDueTimer(taskId, rung, now);
    return task ? { ...this.remember(task) } : null;
  }

  /** The consumer's complete step: writes the chunk (one statement) and closes the store of this transaction. */
  async flush(): Promise<void> {
    TaskChunkStore.of.forget(this.uow);
    await this.flushPending();
  }

  /** How many writes are buffered (tasks, history rows, links). */
  get pending(): number {
    return this.inserted.size + this.changed.size + this.history.length + this.links.size;
  }

  /** A task read from the table; what this transaction already holds of it is newer (or equal after a flush). */
  private remember(task: Task): Task {
    const known = this.tasks.get(task.taskId);
    if (known) return known;
    this.tasks.set(task.taskId, task);
    this.stored.set(task.taskId, task.version);
    this.keys.set(task.triggerKey, task.taskId);
    return task;
  }

  /**
   * Writes what is buffered — new tasks, changed tasks, history rows, event links — in one statement
   * (data-modifying CTEs; one fixed text, prepared): each was a round trip of its own, and a stat task's
   * transaction paid three of them. The four touch disjoint rows (a task inserted by this chunk is
   * changed in the buffer, never updated in the table before it is written), so one snapshot serves them.
   */
  private async flushPending(): Promise<void> {
    if (!this.inserted.size && !this.changed.size && !this.history.length && !this.links.size) return;
    const inserts = [...this.inserted].map((id) => this.tasks.get(id)!);
    const updates = [...this.changed].map((id) => ({ task: this.tasks.get(id)!, expected: this.stored.get(id)! }));
    const history = this.history;
    const links = [...this.links];
    this.inserted.clear();
    this.changed.clear();
    this.history = [];
    this.links = new Map();
    const [written] = await this.uow.query<{ inserted: string[]; updated: number }>(FLUSH_SQL, [
      JSON.stringify(inserts.map(taskRow)),
      JSON.stringify(updates.map(({ task, expected }) => Object.assign(taskRow(task), { expected_version: expected }))),
      JSON.stringify(history.map((h) => ({
        task_id: h.taskId, at: ts(h.at), actor: h.actor, from_state: h.fromState, to_state: h.toState, action: h.action, reason: h.reason, details: h.details ?? {}, event_id: h.eventId,
      }))),
      links.map(([e]) => e),
      links.map(([, t]) => t),
    ], PREPARED);
    if (written.inserted.length !== inserts.length) {
      const stored = new Set(written.inserted);
      const lost = inserts.filter((t) => !stored.has(t.taskId)).map((t) => t.triggerKey);
      throw chunkRace(`${lost.length} task(s) were inserted meanwhile by another transaction (trigger keys ${lost.slice(0, 3).join(', ')}${lost.length > 3 ? ' …' : ''})`);
    }
    if (written.updated !== updates.length) throw chunkRace(`${updates.length - written.updated} task(s) changed meanwhile in another transaction`);
    for (const t of inserts) this.stored.set(t.taskId, t.version);
    for (const { task } of updates) this.stored.set(task.taskId, task.version);
  }
}

/**
 * The chunk's writes as one statement: $1 new tasks, $2 changed tasks with the version each expects,
 * $3 history rows (in append order: seq follows the chunk's order, as one by one), $4/$5 event links
 * (the first link of an event stays). Returns the ids inserted (an id missing: another transaction
 * inserted that trigger key meanwhile) and the number of tasks updated (short: one changed meanwhile).
 */
export const FLUSH_SQL = `WITH inserted AS (
    INSERT INTO tk_task (${COLUMNS}) SELECT ${COLUMNS} FROM jsonb_populate_recordset(NULL::tk_task, $1::jsonb) ON CONFLICT DO NOTHING RETURNING task_id
  ), updated AS (
    UPDATE tk_task t SET state = u.state, status = u.status, business_status = u.business_status, epid = u.epid, merged_from_epid = u.merged_from_epid,
      owner = u.owner, updated_at = u.updated_at, version = u.version, escalation_rung = u.escalation_rung, next_timer_at = u.next_timer_at,
      breached_at = u.breached_at, acknowledgement = u.acknowledgement, completed_at = u.completed_at, finding = u.finding, identified_at = u.identified_at,
      communicated_by = u.communicated_by, details = u.details
    FROM (SELECT r.*, (e ->> 'expected_version')::int AS expected_version
            FROM jsonb_array_elements($2::jsonb) AS e CROSS JOIN LATERAL jsonb_populate_record(NULL::tk_task, e) AS r) u
    WHERE t.task_id = u.task_id AND t.version = u.expected_version
    RETURNING t.task_id
  ), history AS (
    INSERT INTO tk_task_history (task_id, at, actor, from_state, to_state, action, reason, details, event_id)
    SELECT h.task_id, h.at, h.actor, h.from_state, h.to_state, h.action, h.reason, coalesce(h.details, '{}'::jsonb), h.event_id
      FROM jsonb_populate_recordset(NULL::tk_task_history, $3::jsonb) WITH ORDINALITY AS h ORDER BY h.ordinality
  ), links AS (
    INSERT INTO tk_task_event (event_id, task_id) SELECT * FROM unnest($4::text[], $5::text[]) ON CONFLICT DO NOTHING
  )
  SELECT ARRAY(SELECT task_id FROM inserted) AS inserted, (SELECT count(*)::int FROM updated) AS updated`;
