import { EventRuntime, UnitOfWork } from '@clinmesh/event-runtime';
import { DueTimer, TaskReader, TaskStore } from '../domain/task.ports';
import { TaskLifecycle } from './task-lifecycle';

/**
 * The durable SLA timers: the due index (tk_task.next_timer_at) is read,
 * then each task is claimed with FOR UPDATE SKIP LOCKED in its own
 * transaction (so several replicas share the work), re-checked, and its rung
 * fired: a `task.escalated` event to the rung's audiences, the next rung
 * armed (or the ladder exhausted = a failed handoff), the SLA breach
 * recorded once. A timer that fell due while the service was down is simply
 * due at start and fires once (the claim and the outbox row commit together;
 * the event id derives from task and rung).
 */
export class FireDueTimersHandler {
  constructor(private readonly lifecycle: TaskLifecycle, private readonly runtime: EventRuntime, private readonly reader: TaskReader, private readonly stores: (uow: UnitOfWork) => TaskStore) {}

  /** Fires what is due now (at most `limit`, `concurrency` at a time); how many fired. */
  async fireDue(limit: number, concurrency: number): Promise<number> {
    const due = await this.reader.dueTimers(this.lifecycle.now(), limit);
    let fired = 0;
    let next = 0;
    const worker = async () => {
      while (next < due.length) {
        const timer = due[next++];
        if (await this.fire(timer)) fired++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, due.length) }, worker));
    return fired;
  }

  async fire(timer: DueTimer): Promise<boolean> {
    const origin = { id: `task-timer:${timer.taskId}:${timer.rung}`, correlationId: timer.correlationId, tier: timer.tier, source: 'task' };
    return this.runtime.inTransaction(origin, async (ctx) => {
      const store = this.stores(ctx.uow);
      const now = this.lifecycle.now();
      const task = await store.claimDueTimer(timer.taskId, timer.rung, now);
      if (!task) return false;
      const def = this.lifecycle.workflow(task);
      const rung = def.escalation[task.escalationRung];
      const nextAt = this.lifecycle.sla.rungAt(def, task.dueAt, task.escalationRung + 1);
      const firstBreach = task.breachedAt === null;
      const exhausted = nextAt === null;
      await this.lifecycle.amend(ctx, store, task, { escalationRung: task.escalationRung + 1, nextTimerAt: nextAt, breachedAt: task.breachedAt ?? now }, {
        actor: 'task-sla-timer', change: 'ESCALATED', action: 'escalate',
        reason: `${firstBreach ? 'SLA breached' : 'still not acted on'}: rung ${task.escalationRung + 1} of ${def.escalation.length} to ${rung.audiences.join(', ')}`,
        escalation: { rung: task.escalationRung, audiences: rung.audiences, exhausted }, details: { rung: task.escalationRung, audiences: rung.audiences, dueAt: task.dueAt },
      });
      this.lifecycle.observeOnCommit(ctx, (o) => {
        o.escalated(task, task.escalationRung, firstBreach, Math.max(0, now - (task.nextTimerAt ?? now)) / 1000);
        if (exhausted) o.failedHandoff(task, 'ladder-exhausted');
      });
      return true;
    });
  }
}
