import { EventOrigin, EventRuntime } from '@clinmesh/event-runtime';
import { UnitOfWork } from '@clinmesh/event-runtime';
import { ClinmeshError } from '@clinmesh/errors';
import type { TaskFeedback, TaskFeedbackAction } from '@clinmesh/schemas';
import { Acknowledgement, FEEDBACK_ACTIONS, FeedbackAction, Task } from '../domain/task';
import { TaskReader, TaskStore } from '../domain/task.ports';
import { Actor } from '../domain/workflow/workflow.machine';
import { TASK_ERRORS, invalidRequest, stateConflict, taskNotFound, versionMismatch } from '../domain/task.errors';
import { TaskLifecycle } from './task-lifecycle';

export interface ChangeCommand {
  taskId: string;
  /** The If-Match version. */
  ifMatch: number;
  actor: Actor;
}

/**
 * HTTP-originated changes run in `runtime.inTransaction`: the If-Match
 * version is checked against the row, and again in the UPDATE (… WHERE
 * version = $n), so of two racing writers with the same version exactly one
 * wins and the other gets 412.
 */
abstract class TaskCommandHandler {
  constructor(protected readonly lifecycle: TaskLifecycle, protected readonly runtime: EventRuntime, protected readonly reader: TaskReader, protected readonly stores: (uow: UnitOfWork) => TaskStore) {}

  protected async run<T>(cmd: ChangeCommand, purpose: string, work: (task: Task, store: TaskStore, ctx: Parameters<Parameters<EventRuntime['inTransaction']>[1]>[0]) => Promise<T>): Promise<T> {
    const seen = await this.reader.get(cmd.taskId);
    if (!seen) throw taskNotFound(cmd.taskId);
    const origin: EventOrigin = { id: `task-http:${cmd.taskId}:v${cmd.ifMatch}:${purpose}`, correlationId: seen.correlationId, causationId: undefined, tier: seen.tier, source: 'task' };
    try {
      return await this.runtime.inTransaction(origin, async (ctx) => {
        const store = this.stores(ctx.uow);
        const task = await store.get(cmd.taskId);
        if (!task) throw taskNotFound(cmd.taskId);
        if (task.version !== cmd.ifMatch) throw versionMismatch(cmd.ifMatch, task.version);
        return work(task, store, ctx);
      });
    } catch (error) {
      if (error instanceof ClinmeshError) this.lifecycle.observer.refused(error.code);
      throw error;
    }
  }
}

export class TransitionTaskHandler extends TaskCommandHandler {
  async handle(cmd: ChangeCommand & { to: string; fields: Record<string, unknown> }): Promise<Task> {
    if (typeof cmd.to !== 'string' || !cmd.to) throw invalidRequest('"to" (the target state) is required');
    return this.run(cmd, `to:${cmd.to}`, (task, store, ctx) => this.lifecycle.transition(ctx, store, task, { to: cmd.to, actor: cmd.actor, fields: cmd.fields }));
  }
}

export interface AcknowledgeCommand extends ChangeCommand {
  method: string;
  receivedBy?: string;
  receivedAt?: number;
  communicatedBy?: string;
  readBack?: boolean;
}

/**
 * Closed-loop acknowledgement of a critical result: who received it, when
 * and how; with the finding, the time it was identified and who communicated
 * it (kept on the task since it opened) that is the ACR's six facts. The
 * move to the acknowledgement state stops the SLA clock, so the ladder stops.
 */
export class AcknowledgeTaskHandler extends TaskCommandHandler {
  async handle(cmd: AcknowledgeCommand): Promise<Task> {
    const updated = await this.run(cmd, 'acknowledge', async (task, store, ctx) => {
      const def = this.lifecycle.workflow(task);
      if (!def.acknowledgement) throw new ClinmeshError(TASK_ERRORS.notAcknowledgeable, `workflow ${def.id} has no closed-loop acknowledgement`, { status: 422 });
      if (task.acknowledgement) throw stateConflict('the task is already acknowledged', { state: task.state, status: task.fhirStatus, owner: task.owner, version: task.version });
      const now = this.lifecycle.now();
      const ack: Acknowledgement = {
        finding: task.finding ?? task.title, identifiedAt: task.identifiedAt ?? task.createdAt, communicatedBy: cmd.communicatedBy ?? task.communicatedBy ?? 'clinmesh',
        receivedBy: cmd.receivedBy ?? cmd.actor.subject, receivedAt: cmd.receivedAt ?? now, method: cmd.method, readBack: cmd.readBack ?? false,
      };
      return this.lifecycle.transition(ctx, store, task, { to: def.acknowledgement.state, actor: cmd.actor, fields: { receivedBy: ack.receivedBy, method: ack.method } }, {
        patch: { acknowledgement: ack }, change: 'ACKNOWLEDGED', reason: `acknowledged by ${ack.method}`, details: { readBack: ack.readBack },
      });
    });
    // From when the finding was identified (the result released), else from when the task's clock started.
    this.lifecycle.observer.acknowledged(updated, (updated.acknowledgement!.receivedAt - (updated.identifiedAt ?? updated.startedAt)) / 1000);
    return updated;
  }
}

export interface FeedbackCommand extends ChangeCommand {
  action: string;
  reason: string;
  deferUntil?: number;
}

/**
 * Clinician feedback on a task raised by a score or an alert — acknowledge,
 * dismiss, defer or escalate, each with a reason — published as a FEEDBACK
 * task event (CANCELLED for a dismissal) for threshold tuning.
 */
export class RecordFeedbackHandler extends TaskCommandHandler {
  async handle(cmd: FeedbackCommand): Promise<Task> {
    const action = String(cmd.action ?? '').toUpperCase() as FeedbackAction;
    if (!FEEDBACK_ACTIONS.includes(action)) throw invalidRequest(`action must be one of ${FEEDBACK_ACTIONS.join(', ').toLowerCase()}`);
    if (typeof cmd.reason !== 'string' || !cmd.reason.trim()) throw new ClinmeshError(TASK_ERRORS.missingField, 'feedback requires the field "reason"', { status: 422, details: { field: 'reason' } });
    if (action === 'DEFER' && !(typeof cmd.deferUntil === 'number' && cmd.deferUntil > this.lifecycle.now())) {
      throw new ClinmeshError(TASK_ERRORS.missingField, 'defer requires "deferUntil", a future time', { status: 422, details: { field: 'deferUntil' } });
    }
    return this.run(cmd, `feedback:${action}`, async (task, store, ctx) => {
      const def = this.lifecycle.workflow(task);
      if (!def.feedback) throw new ClinmeshError(TASK_ERRORS.feedbackNotAccepted, `workflow ${def.id} does not take clinician feedback`, { status: 422 });
      const current = { state: task.state, status: task.fhirStatus, owner: task.owner, version: task.version };
      if (!this.lifecycle.isOpen(task)) throw stateConflict('the task is closed', current);
      const feedback: TaskFeedback = { action: action as TaskFeedbackAction, reason: cmd.reason, actor: cmd.actor.subject, at: this.lifecycle.now() };
      const note = { actor: cmd.actor.subject, reason: cmd.reason, feedback, change: 'FEEDBACK' as const, action: `feedback-${action.toLowerCase()}` };
      if (action === 'DISMISS') {
        const cancel = def.transitions.find((t) => !t.system && t.from.includes(task.state) && def.states[t.to].fhirStatus === 'cancelled');
        if (!cancel) throw stateConflict(`the task cannot be dismissed from state ${task.state}`, current);
        return this.lifecycle.transition(ctx, store, task, { to: cancel.to, actor: cmd.actor, fields: { reason: cmd.reason } }, { feedback, change: 'CANCELLED', reason: cmd.reason });
      }
      const patch: Partial<Task> = action === 'DEFER' ? { nextTimerAt: cmd.deferUntil! } : action === 'ESCALATE' ? { nextTimerAt: this.lifecycle.now() } : { nextTimerAt: null };
      if (action === 'ESCALATE' && task.nextTimerAt === null) throw stateConflict('the escalation ladder is exhausted or stopped', current);
      return this.lifecycle.amend(ctx, store, task, patch, note);
    });
  }
}
