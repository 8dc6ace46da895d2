import type { MatchableEvent } from '../subscription';

/**
 * Subscription topics offered (R4B Subscriptions backport IG, topic-based):
 * canonical URLs clients put in `Subscription.criteria`, and which events
 * each one selects.
 */
export interface SubscriptionTopicDef {
  url: string;
  title: string;
  description: string;
  resourceType: string;
  /** Which event of the notifier's streams belongs to the topic. */
  matches: (e: MatchableEvent & { changeStatus?: string | null }) => boolean;
}

const BASE = 'https://clinmesh.org/fhir/SubscriptionTopic';

export const SUBSCRIPTION_TOPICS: readonly SubscriptionTopicDef[] = [
  {
    url: `${BASE}/critical-result`, title: 'Critical result', resourceType: 'Observation',
    description: 'A laboratory or diagnostic result policy flagged critical (e.g. a critical potassium).',
    matches: (e) => e.kind === 'routed' && e.critical && (e.resourceType === 'Observation' || e.resourceType === 'DiagnosticReport'),
  },
  {
    url: `${BASE}/encounter-start`, title: 'Encounter start', resourceType: 'Encounter',
    description: 'A patient was admitted or an encounter started (ADT A01/A04/A05).',
    matches: (e) => e.kind === 'routed' && e.resourceType === 'Encounter' && /^ADT\^A0[145]/.test(e.messageType),
  },
  {
    url: `${BASE}/encounter-end`, title: 'Encounter end', resourceType: 'Encounter',
    description: 'A patient was discharged or an encounter ended (ADT A03).',
    matches: (e) => e.kind === 'routed' && e.resourceType === 'Encounter' && /^ADT\^A03/.test(e.messageType),
  },
  {
    url: `${BASE}/task-created`, title: 'Task created', resourceType: 'Task',
    description: 'A clinical work item was created for the audience.',
    matches: (e) => e.kind === 'task' && e.eventName === 'task.created',
  },
  {
    url: `${BASE}/task-escalated`, title: 'Task escalated', resourceType: 'Task',
    description: 'A clinical work item was escalated to the audience (on-call, supervisor).',
    matches: (e) => e.kind === 'task' && e.eventName === 'task.escalated',
  },
];

export function topicByUrl(url: string): SubscriptionTopicDef | undefined {
  return SUBSCRIPTION_TOPICS.find((t) => t.url === url);
}
