import { EventContext, InboundEvent } from '@clinmesh/event-runtime';
import { stageTopic } from '@clinmesh/topology';
import type { RoutedEvent, TaskEvent } from '@clinmesh/schemas';
import { Task, taskTitle } from '../domain/task';
import { dueAt } from '../domain/task-sla';
import { TaskRepositoryPort } from '../domain/task.repository.port';

/**
 * routed → one task per workflow. Task ids derive from the routed event id
 * and workflow, so redelivery and replay find the existing task instead of
 * creating a second one; a TaskEvent is published only when a task is new.
 */
export class CreateTasksHandler {
  constructor(private readonly tasks: (ctx: EventContext) => TaskRepositoryPort) {}

  async handle(event: InboundEvent<RoutedEvent>, ctx: EventContext): Promise<void> {
    const routed = event.value;
    const repo = this.tasks(ctx);
    const now = Date.now();
    for (const workflow of routed.decision.workflows) {
      const task: Task = {
        taskId: ctx.deriveEventId(`task:${workflow}`),
        workflow,
        status: 'open',
        tier: routed.tier,
        epid: routed.epid,
        correlationId: routed.correlationId,
        sourceEventId: routed.eventId,
        title: taskTitle(workflow, routed.canonical.provenance.sourceMessageType),
        messageType: routed.canonical.provenance.sourceMessageType,
        resourceType: routed.canonical.resourceType,
        canonicalId: routed.canonical.canonicalId,
        audiences: routed.decision.audiences,
        dueAt: dueAt(routed.tier, routed.canonical.receivedAt),
        createdAt: now,
        version: 1,
      };
      if (!(await repo.createIfAbsent(task))) continue;
      const change: TaskEvent = {
        eventId: ctx.deriveEventId(`task-created:${workflow}`),
        correlationId: routed.correlationId,
        causationId: routed.eventId,
        epid: task.epid,
        tier: task.tier,
        taskId: task.taskId,
        change: 'CREATED',
        workflow,
        status: task.status,
        title: task.title,
        dueAt: task.dueAt,
        audiences: task.audiences,
        messageType: task.messageType,
        resourceType: task.resourceType,
        canonicalId: task.canonicalId,
        receivedAt: routed.canonical.receivedAt,
      };
      ctx.emit({ topic: stageTopic('tasks', task.tier), key: task.epid || task.correlationId, value: change, eventId: change.eventId, tier: task.tier, eventType: 'TaskEvent' });
    }
  }
}
