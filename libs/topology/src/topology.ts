import { TIERS, Tier } from './tier';

/** Pipeline stages, in flow order; each has one topic per tier. */
export const STAGES = ['ingested', 'identified', 'canonical', 'routed', 'tasks'] as const;
export type Stage = (typeof STAGES)[number];

export const SERVICES = ['ingest', 'identity-resolution', 'normalization', 'policy', 'task', 'notifier'] as const;
export type ServiceName = (typeof SERVICES)[number];

export const EVENT_TOPICS = {
  /** Person created / record linked / persons merged or unmerged / review items opened and resolved; keyed by EPID. */
  identity: 'clinical.identity.events',
  /** Delivery receipts from the notifier (delivered, dead, cancelled). */
  delivery: 'clinical.delivery.events',
  /** Consent changes, break-glass granted and expired, policy versions; keyed by EPID. */
  policy: 'clinical.policy.events',
  /** One explained decision per event and audience, and shadow-mode differences (shadow = true), for audit; keyed by EPID. */
  decisions: 'clinical.policy.decisions',
  /** Dead-lettered, redriven, replayed: what operators and work queues follow; no PHI. */
  operations: 'clinmesh.operations.events',
} as const;

/** The single-topic event streams, with the schema each carries. */
export const EVENT_TOPIC_SCHEMAS: Readonly<Record<keyof typeof EVENT_TOPICS, string>> = {
  identity: 'IdentityEvent',
  delivery: 'DeliveryEvent',
  policy: 'PolicyEvent',
  decisions: 'PolicyDecisionEvent',
  operations: 'OperationsEvent',
};

/**
 * De-identified views (HIPAA Safe Harbor) per tier, for readers outside the
 * organisation's authorised staff (research, external analytics).
 */
export function deidentifiedTopic(tier: Tier): string {
  return `clinical.deidentified.${tier}`;
}

export function stageTopic(stage: Stage, tier: Tier): string {
  return `clinical.${stage}.${tier}`;
}

export function deadLetterTopic(service: ServiceName | string): string {
  return `clinmesh.deadletter.${service}`;
}

export interface TopicSpec {
  name: string;
  partitions: number;
  /** Topics that carry one avro record type share a schema (subject `<topic>-value`). */
  schema: string;
  tier?: Tier;
}

/**
 * Partition counts. The embedded cluster keeps only the newest ~5 MB / 100k
 * batches per partition, so deep tiers get more partitions: a 20,000-message
 * bulk backlog of ~2 KB events is ~40 MB, i.e. ~2.5 MB per bulk partition.
 * Real clusters use the same counts unless overridden by the deployment.
 */
export const PARTITIONS: Readonly<Record<Tier, number>> = { stat: 3, urgent: 6, routine: 6, bulk: 16 };

const STAGE_SCHEMA: Readonly<Record<Stage, string>> = {
  ingested: 'IngestedEvent',
  identified: 'IdentifiedEvent',
  canonical: 'CanonicalEvent',
  routed: 'RoutedEvent',
  tasks: 'TaskEvent',
};

/** The one topology definition every topic is created from (embedded or real). */
export function topologyTopics(): TopicSpec[] {
  const topics: TopicSpec[] = [];
  for (const stage of STAGES) {
    for (const tier of TIERS) topics.push({ name: stageTopic(stage, tier), partitions: PARTITIONS[tier], schema: STAGE_SCHEMA[stage], tier });
  }
  for (const tier of TIERS) topics.push({ name: deidentifiedTopic(tier), partitions: PARTITIONS[tier], schema: 'RoutedEvent', tier });
  for (const [key, name] of Object.entries(EVENT_TOPICS)) {
    topics.push({ name, partitions: 6, schema: EVENT_TOPIC_SCHEMAS[key as keyof typeof EVENT_TOPICS] });
  }
  for (const service of ['ingest', 'identity-resolution', 'normalization', 'policy', 'task', 'notifier']) {
    topics.push({ name: deadLetterTopic(service), partitions: 3, schema: 'DeadLetter' });
  }
  return topics;
}

/** Which stage each service consumes and produces (the single-topic event streams are extra). */
export const SERVICE_FLOW: Readonly<Record<ServiceName, { consumes?: Stage; produces?: Stage }>> = {
  ingest: { produces: 'ingested' },
  'identity-resolution': { consumes: 'ingested', produces: 'identified' },
  normalization: { consumes: 'identified', produces: 'canonical' },
  policy: { consumes: 'canonical', produces: 'routed' },
  task: { consumes: 'routed', produces: 'tasks' },
  notifier: { consumes: 'tasks' },
};
