import { EventContext, InboundEvent } from '@clinmesh/event-runtime';
import type { DeliveryEvent, IdentityEvent, OperationsEvent, PolicyEvent } from '@clinmesh/schemas';
import { Tier } from '@clinmesh/topology';
import { Task, taskTitle } from '../domain/task';
import { TaskStore } from '../domain/task.ports';
import { WorkflowDefinition } from '../domain/workflow/workflow.model';
import { TaskLifecycle } from './task-lifecycle';

const SYSTEM = (subject: string) => ({ subject, roles: null, system: true });

/** Shared: open a work-queue task for an item (idempotent by item id), close it through the workflow's system transition. */
abstract class WorkQueue {
  constructor(protected readonly lifecycle: TaskLifecycle, protected readonly stores: (ctx: EventContext) => TaskStore) {}

  protected async openItem(ctx: EventContext, def: WorkflowDefinition, item: {
    itemId: string; tier: Tier; epid: string; correlationId: string; what: string; resourceType: string; details: Record<string, unknown>; at: number; by: string;
  }): Promise<void> {
    const store = this.stores(ctx);
    const task = this.lifecycle.newTask(def, {
      taskId: ctx.deriveEventId(`task:${def.id}`), tier: item.tier, epid: item.epid, correlationId: item.correlationId, sourceEventId: ctx.origin.id,
      triggerKey: `${def.id}|${item.itemId}`, title: taskTitle(def.title, item.what), messageType: item.what, resourceType: item.resourceType,
      canonicalId: item.itemId, audiences: def.escalation[0].audiences, finding: null, identifiedAt: null, communicatedBy: null, details: item.details,
    }, item.at);
    await this.lifecycle.open(ctx, store, task, item.by, null);
  }

  /** Closes the item's task through the transition only the system takes (e.g. the EMPI decided, the redrive worked). */
  protected async closeItem(ctx: EventContext, def: WorkflowDefinition, itemId: string, by: string, fields: Record<string, unknown>): Promise<void> {
    const store = this.stores(ctx);
    const task = await store.byTriggerKey(`${def.id}|${itemId}`);
    if (!task || !this.lifecycle.isOpen(task)) return;
    const close = def.transitions.find((t) => t.system && t.from.includes(task.state));
    if (!close) return;
    await this.lifecycle.transition(ctx, store, task, { to: close.to, actor: SYSTEM(by), fields }, { reason: String(fields.resolution ?? fields.reason ?? close.name) });
  }
}

/** clinical.identity.events: review items open/close identity review; merges move open tasks to the survivor, unmerges move them back. */
export class IdentityEventsHandler extends WorkQueue {
  async handle(event: InboundEvent<IdentityEvent>, ctx: EventContext): Promise<void> {
    const e = event.value;
    const review = this.lifecycle.catalog.startingFrom('identityEvents', 'REVIEW_REQUIRED');
    if (e.type === 'REVIEW_REQUIRED' && review && e.reviewItemId) {
      await this.openItem(ctx, review, {
        itemId: e.reviewItemId, tier: 'routine', epid: e.epid, correlationId: e.correlationId, what: 'possible duplicate person', resourceType: 'Person',
        details: { reviewItemId: e.reviewItemId, otherEpid: e.otherEpid ?? null, score: e.score ?? null, method: e.method }, at: e.at, by: 'identity-resolution',
      });
    } else if (e.type === 'REVIEW_RESOLVED' && review && e.reviewItemId) {
      await this.closeItem(ctx, review, e.reviewItemId, 'identity-resolution', { resolution: e.resolution ?? 'resolved' });
    } else if (e.type === 'PERSONS_MERGED' && e.otherEpid) {
      await this.follow(ctx, await this.stores(ctx).openTasksOfPatient(e.otherEpid), e.epid, e.otherEpid, 'merge');
    } else if (e.type === 'PERSONS_UNMERGED' && e.otherEpid) {
      const store = this.stores(ctx);
      // The tasks the merge moved (in either direction of the pair) go back to the person they came from.
      const moved = [...(await store.tasksMovedByMerge(e.epid, e.otherEpid)), ...(await store.tasksMovedByMerge(e.otherEpid, e.epid))];
      for (const task of moved) await this.move(ctx, task, task.mergedFromEpid!, null, 'unmerge');
    }
  }

  private async follow(ctx: EventContext, tasks: Task[], survivor: string, mergedAway: string, why: string): Promise<void> {
    for (const task of tasks) await this.move(ctx, task, survivor, mergedAway, why);
  }

  private async move(ctx: EventContext, task: Task, to: string, mergedFrom: string | null, why: string): Promise<void> {
    await this.lifecycle.amend(ctx, this.stores(ctx), task, { epid: to, mergedFromEpid: mergedFrom }, {
      actor: 'identity-resolution', reason: `persons ${why === 'merge' ? 'merged' : 'unmerged'}`, previousEpid: task.epid, change: 'UPDATED', action: why,
    });
  }
}

/** clinical.policy.events: a break-glass grant opens its after-the-fact review (it stays until reviewed, expiry or not). */
export class PolicyEventsHandler extends WorkQueue {
  async handle(event: InboundEvent<PolicyEvent>, ctx: EventContext): Promise<void> {
    const e = event.value;
    const def = this.lifecycle.catalog.startingFrom('policyEvents', e.kind);
    if (e.kind !== 'BREAK_GLASS_GRANTED' || !def) return;
    await this.openItem(ctx, def, {
      itemId: e.subjectId, tier: 'urgent', epid: e.epid ?? '', correlationId: e.correlationId, what: `emergency access by ${e.actor ?? 'unknown'}`, resourceType: 'Consent',
      details: { grantId: e.subjectId, audience: e.audience ?? null, actor: e.actor ?? null, reason: e.reason ?? null, expiresAt: e.expiresAt ?? null }, at: e.at, by: 'policy',
    });
  }
}

/** clinmesh.operations.events: a dead letter opens an exception task, its redrive closes it. */
export class OperationsEventsHandler extends WorkQueue {
  async handle(event: InboundEvent<OperationsEvent>, ctx: EventContext): Promise<void> {
    const e = event.value;
    const def = this.lifecycle.catalog.startingFrom('operationsEvents', 'DEAD_LETTERED');
    if (!def || !e.deadLetterId) return;
    if (e.kind === 'DEAD_LETTERED') {
      await this.openItem(ctx, def, {
        itemId: e.deadLetterId, tier: 'urgent', epid: '', correlationId: e.correlationId, what: `${e.service} ${e.errorCode ?? 'error'}`, resourceType: 'DeadLetter',
        details: { deadLetterId: e.deadLetterId, service: e.service, consumerGroup: e.consumerGroup, topic: e.topic ?? null, errorCode: e.errorCode ?? null, sourceEventId: e.sourceEventId ?? null },
        at: e.at, by: e.service,
      });
    } else if (e.kind === 'REDRIVEN') {
      await this.closeItem(ctx, def, e.deadLetterId, e.actor ?? e.service, { reason: 'redriven' });
    }
  }
}

/**
 * clinical.delivery.events: a DEAD delivery of a stat task's notification is
 * a failed handoff — the next ladder rung fires now instead of at its time.
 */
export class DeliveryEventsHandler {
  constructor(private readonly lifecycle: TaskLifecycle, private readonly stores: (ctx: EventContext) => TaskStore) {}

  async handle(event: InboundEvent<DeliveryEvent>, ctx: EventContext): Promise<void> {
    const e = event.value;
    if (e.status !== 'DEAD') return;
    const store = this.stores(ctx);
    const task = await store.taskOfEvent(e.sourceEventId);
    if (!task || task.tier !== 'stat' || !this.lifecycle.isOpen(task) || task.nextTimerAt === null) return;
    const now = this.lifecycle.now();
    if (task.nextTimerAt <= now) return;
    this.lifecycle.observeOnCommit(ctx, (o) => o.failedHandoff(task, 'delivery-dead'));
    await this.lifecycle.amend(ctx, store, task, { nextTimerAt: now }, {
      actor: 'notifier', reason: `delivery ${e.deliveryId} to subscription ${e.subscriptionId} is dead after ${e.attempts} attempts: escalating now`, change: 'UPDATED', action: 'handoff-failed',
      details: { deliveryId: e.deliveryId, subscriptionId: e.subscriptionId, httpStatus: e.httpStatus ?? null },
    });
  }
}
