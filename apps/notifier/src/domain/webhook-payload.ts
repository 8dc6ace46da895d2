import type { RoutedEvent, TaskEvent } from '@clinmesh/schemas';
import type { MatchableEvent } from './subscription';

/** Standard Webhooks body: `{ type, timestamp, data }`. */
export interface WebhookBody {
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/** What fan-out keeps about an event for every delivery made of it (no PHI beyond the audience's own view). */
export interface DeliverableEvent {
  match: MatchableEvent;
  sourceEventId: string;
  correlationId: string;
  epid: string;
  tier: MatchableEvent['tier'];
  type: string;
  decisionId: string | null;
  /** For FHIR id-only notifications: the focus resource. */
  focus: { resourceType: string; id: string } | null;
  /** The audience's projected view (routed events): what a full-resource notification may render, nothing more. */
  view: RoutedEvent['canonical'] | null;
  body: WebhookBody;
  receivedAt: number | null;
}

export function routedDeliverable(e: RoutedEvent, now: number): DeliverableEvent {
  const resourceType = e.canonical.resourceType;
  const type = `routed.${resourceType.toLowerCase()}`;
  return {
    match: {
      kind: 'routed', eventName: 'routed', tier: e.tier, workflows: e.decision.workflows, messageType: e.canonical.provenance.sourceMessageType,
      resourceType, critical: Boolean(e.critical), audiences: e.audience ? [e.audience] : [], purposeOfUse: e.purposeOfUse ?? null,
    },
    sourceEventId: e.eventId,
    correlationId: e.correlationId,
    epid: e.epid,
    tier: e.tier,
    type,
    decisionId: e.decisionId ?? null,
    focus: { resourceType, id: e.canonical.canonicalId },
    view: e.canonical,
    receivedAt: e.canonical.receivedAt ?? null,
    body: {
      type,
      timestamp: new Date(now).toISOString(),
      data: {
        eventId: e.eventId, correlationId: e.correlationId, epid: e.epid, tier: e.tier, audience: e.audience, purposeOfUse: e.purposeOfUse,
        decisionId: e.decisionId, effect: e.effect, projection: e.projection, labels: e.labels, critical: e.critical,
        workflows: e.decision.workflows, canonical: e.canonical,
      },
    },
  };
}

export function taskDeliverable(t: TaskEvent, now: number): DeliverableEvent {
  const type = `task.${t.change.toLowerCase()}`;
  return {
    match: {
      kind: 'task', eventName: type, tier: t.tier, workflows: [t.workflow], messageType: t.messageType, resourceType: t.resourceType,
      critical: t.tier === 'stat', audiences: t.audiences, purposeOfUse: null,
    },
    sourceEventId: t.eventId,
    correlationId: t.correlationId,
    epid: t.epid,
    tier: t.tier,
    type,
    decisionId: null,
    focus: { resourceType: 'Task', id: t.taskId },
    view: null,
    receivedAt: t.receivedAt ?? null,
    body: { type, timestamp: new Date(now).toISOString(), data: { ...(t as unknown as Record<string, unknown>) } },
  };
}
