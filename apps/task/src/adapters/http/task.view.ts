import { FHIR_PRIORITY, Task, TaskHistoryEntry } from '../../domain/task';

const iso = (v: number | null) => (v === null ? null : new Date(v).toISOString());

/** The API view of a task: FHIR Task status + businessStatus beside the workflow state, times as ISO 8601. */
export function taskView(t: Task) {
  return {
    taskId: t.taskId,
    workflow: t.workflow,
    workflowVersion: t.workflowVersion,
    state: t.state,
    status: t.fhirStatus,
    businessStatus: t.businessStatus,
    intent: 'order',
    priority: FHIR_PRIORITY[t.tier],
    tier: t.tier,
    epid: t.epid,
    owner: t.owner,
    title: t.title,
    audiences: t.audiences,
    correlationId: t.correlationId,
    canonicalId: t.canonicalId,
    messageType: t.messageType,
    resourceType: t.resourceType,
    dueAt: iso(t.dueAt),
    restriction: { period: { end: iso(t.dueAt) } },
    startedAt: iso(t.startedAt),
    createdAt: iso(t.createdAt),
    updatedAt: iso(t.updatedAt),
    completedAt: iso(t.completedAt),
    version: t.version,
    escalation: { nextRung: t.escalationRung, nextAt: iso(t.nextTimerAt) },
    breached: t.breachedAt !== null,
    breachedAt: iso(t.breachedAt),
    finding: t.finding,
    identifiedAt: iso(t.identifiedAt),
    acknowledgement: t.acknowledgement
      ? { ...t.acknowledgement, identifiedAt: iso(t.acknowledgement.identifiedAt), receivedAt: iso(t.acknowledgement.receivedAt) }
      : null,
    mergedFromEpid: t.mergedFromEpid,
    details: t.details,
  };
}

export function historyView(h: TaskHistoryEntry) {
  return { at: iso(h.at), actor: h.actor, from: h.fromState, to: h.toState, action: h.action, reason: h.reason, details: h.details, eventId: h.eventId };
}
