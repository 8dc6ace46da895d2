import type { TaskChange, TaskEvent, TaskFeedback } from '@clinmesh/schemas';
import { FHIR_PRIORITY, Task } from './task';

export interface ChangeFacts {
  eventId: string;
  causationId: string;
  change: TaskChange;
  at: number;
  actor?: string | null;
  fromState?: string | null;
  transition?: string | null;
  reason?: string | null;
  /** ESCALATED: the rung that fired and its audiences. */
  escalation?: { rung: number; audiences: string[]; exhausted: boolean };
  correction?: boolean;
  feedback?: TaskFeedback | null;
  previousEpid?: string | null;
  receivedAt?: number;
}

/** The FHIR-Task-shaped record of one lifecycle change, for clinical.tasks.<tier>. */
export function taskEvent(task: Task, facts: ChangeFacts): TaskEvent {
  return {
    eventId: facts.eventId,
    correlationId: task.correlationId,
    causationId: facts.causationId,
    epid: task.epid,
    tier: task.tier,
    taskId: task.taskId,
    change: facts.change,
    workflow: task.workflow,
    status: task.fhirStatus,
    title: task.title,
    dueAt: task.dueAt,
    audiences: facts.escalation ? facts.escalation.audiences : task.audiences,
    messageType: task.messageType,
    resourceType: task.resourceType,
    canonicalId: task.canonicalId,
    receivedAt: facts.receivedAt ?? task.startedAt,
    state: task.state,
    businessStatus: task.businessStatus,
    priority: FHIR_PRIORITY[task.tier],
    intent: 'order',
    owner: task.owner,
    version: task.version,
    historyRef: `/v1/tasks/${task.taskId}`,
    fromState: facts.fromState ?? null,
    transition: facts.transition ?? null,
    actor: facts.actor ?? null,
    reason: facts.reason ?? null,
    escalationRung: facts.escalation ? facts.escalation.rung : null,
    ladderExhausted: facts.escalation?.exhausted ?? false,
    breached: task.breachedAt !== null,
    correction: facts.correction ?? false,
    acknowledgement: facts.change === 'ACKNOWLEDGED' ? task.acknowledgement : null,
    feedback: facts.feedback ?? null,
    previousEpid: facts.previousEpid ?? null,
    triggerKey: task.triggerKey,
    changedAt: facts.at,
  };
}

/** The change a move into a state is: COMPLETED / CANCELLED for the closing FHIR statuses, else UPDATED. */
export function changeForStatus(fhirStatus: string): TaskChange {
  if (fhirStatus === 'completed') return 'COMPLETED';
  if (fhirStatus === 'cancelled' || fhirStatus === 'failed' || fhirStatus === 'entered-in-error' || fhirStatus === 'rejected') return 'CANCELLED';
  return 'UPDATED';
}
