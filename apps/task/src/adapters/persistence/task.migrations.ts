import { MigrationInterface, QueryRunner } from 'typeorm';

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

/**
 * Workflow state machines: workflow state + FHIR status/businessStatus,
 * trigger keys (one task per workflow and trigger), owner, the durable SLA
 * timer (next_timer_at, partial due index), escalation rung, breach,
 * acknowledgement facts, merge bookkeeping; the transition history and the
 * events each task emitted or was started by.
 */
export class TaskWorkflows1764400000000 implements MigrationInterface {
  name = 'TaskWorkflows1764400000000';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tk_task
      ADD COLUMN workflow_version int NOT NULL DEFAULT 1,
      ADD COLUMN state text NOT NULL DEFAULT 'requested',
      ADD COLUMN business_status text NOT NULL DEFAULT '',
      ADD COLUMN trigger_key text,
      ADD COLUMN merged_from_epid text,
      ADD COLUMN owner text,
      ADD COLUMN updated_at timestamptz,
      ADD COLUMN escalation_rung int NOT NULL DEFAULT 0,
      ADD COLUMN next_timer_at timestamptz,
      ADD COLUMN breached_at timestamptz,
      ADD COLUMN acknowledgement jsonb,
      ADD COLUMN completed_at timestamptz,
      ADD COLUMN finding text,
      ADD COLUMN identified_at timestamptz,
      ADD COLUMN communicated_by text,
      ADD COLUMN details jsonb NOT NULL DEFAULT '{}'::jsonb,
      ADD COLUMN started_at timestamptz`);
    // Tasks from before the workflows: open ones become requested (their timers were never armed; they stay unarmed).
    await q.query(`UPDATE tk_task SET trigger_key = workflow || '|' || canonical_id || '|' || correlation_id || '|' || task_id, updated_at = created_at,
      status = CASE status WHEN 'open' THEN 'requested' ELSE status END, business_status = 'migrated'`);
    await q.query('ALTER TABLE tk_task ALTER COLUMN trigger_key SET NOT NULL, ALTER COLUMN updated_at SET NOT NULL');
    await q.query('CREATE UNIQUE INDEX tk_task_trigger ON tk_task (trigger_key)');
    await q.query('CREATE INDEX tk_task_due ON tk_task (next_timer_at) WHERE next_timer_at IS NOT NULL');
    await q.query('CREATE INDEX tk_task_canonical ON tk_task (workflow, canonical_id, created_at DESC)');
    await q.query('CREATE INDEX tk_task_page ON tk_task (created_at DESC, task_id DESC)');
    await q.query('CREATE INDEX tk_task_owner ON tk_task (owner) WHERE owner IS NOT NULL');
    await q.query('CREATE INDEX tk_task_merged ON tk_task (epid, merged_from_epid) WHERE merged_from_epid IS NOT NULL');
    await q.query(`CREATE TABLE tk_task_history (task_id text NOT NULL, seq bigserial NOT NULL, at timestamptz NOT NULL, actor text NOT NULL, from_state text, to_state text NOT NULL,
      action text NOT NULL, reason text, details jsonb NOT NULL DEFAULT '{}'::jsonb, event_id text, PRIMARY KEY (task_id, seq))`);
    await q.query('CREATE TABLE tk_task_event (event_id text PRIMARY KEY, task_id text NOT NULL)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS tk_task_event');
    await q.query('DROP TABLE IF EXISTS tk_task_history');
  }
}
