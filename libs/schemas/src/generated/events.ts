// Generated from schemas/*.avsc by tools/generate-event-types — do not edit.
/* eslint-disable */

/** A message accepted by ingest: stored durably and acknowledged. Keyed by the source patient key (an HMAC of the source identifier, never readable PHI). */
export interface IngestedEvent {
  /** Unique, deterministic event id (UUID). */
  eventId: string;
  /** Id of the original message, carried through every stage. */
  correlationId: string;
  /** When ingest received the original message (epoch ms, UTC). */
  receivedAt: number;
  /** Urgency tier assigned by triage. */
  tier: Tier;
  /** Id of the triage rule that assigned the tier. */
  triageRule: string;
  /** Sender of the message. */
  source: MessageSource;
  /** Wire format of the original message. */
  format: MessageFormat;
  /** HL7 MSH-9 as TYPE^TRIGGER (e.g. ADT^A01) or the FHIR resource type (e.g. Bundle/Patient). */
  messageType: string;
  /** HL7 MSH-10 message control id or the FHIR resource/Bundle id. */
  controlId: string;
  /** HL7 version (MSH-12) or FHIR version. */
  version: null | string;
  /** Opaque key of the patient at the source: HMAC-SHA256(authority|identifier), hex; empty when the message has no patient. */
  sourcePatientKey: string;
  /** Patient identifiers found in the message. */
  patientIdentifiers: Array<PatientIdentifier>;
  /** Media type of raw (x-application/hl7-v2+er7 or application/fhir+json). */
  contentType: string;
  /** The original message bytes, exactly as received. */
  raw: Buffer;
}

/** Urgency tier: stat (minutes matter), urgent (this shift), routine (today), bulk (whenever). */
export type Tier = 'stat' | 'urgent' | 'routine' | 'bulk';
export const TierValues = ['stat', 'urgent', 'routine', 'bulk'] as const;

/** Who sent the original message. */
export interface MessageSource {
  /** Sending application (HL7 MSH-3, FHIR meta.source or the authenticated client). */
  system: string;
  /** Sending facility (HL7 MSH-4) or empty when unknown. */
  facility: string;
  /** Transport the message arrived on. */
  channel: Channel;
}

export type Channel = 'MLLP' | 'HTTP';
export const ChannelValues = ['MLLP', 'HTTP'] as const;

export type MessageFormat = 'HL7V2' | 'FHIR_R4';
export const MessageFormatValues = ['HL7V2', 'FHIR_R4'] as const;

/** A patient identifier as sent by the source (PID-3 / Patient.identifier). */
export interface PatientIdentifier {
  /** Assigning authority or identifier system URI. */
  system: string;
  /** The identifier value. */
  value: string;
  /** Identifier type code (HL7 table 0203, e.g. MR, SS). */
  type: null | string;
}

/** An ingested message tied to an enterprise patient id (EPID). Keyed by EPID. */
export interface IdentifiedEvent {
  /** Deterministic event id derived from the ingested event id. */
  eventId: string;
  /** Id of the original message. */
  correlationId: string;
  /** Event id of the ingested event that caused this one. */
  causationId: string;
  /** Enterprise patient id; empty when the message carries no patient. */
  epid: string;
  /** Urgency tier (may be raised, never lowered). */
  tier: Tier;
  /** Match explanation. */
  identity: IdentityAssertion;
  /** The ingested event this identifies. */
  ingested: IngestedEvent;
}

/** How the message was tied to an enterprise patient. */
export interface IdentityAssertion {
  /** Match method: deterministic-identifier, trusted-identifier, probabilistic, new, none. */
  method: string;
  /** Match score (log2 weight) when probabilistic. */
  score: null | number;
  /** True when this message created the person. */
  personCreated: boolean;
}

/** A clinical fact in the canonical model: the public contract for analytics. Keyed by EPID. */
export interface CanonicalEvent {
  /** Deterministic event id. */
  eventId: string;
  /** Id of the original message. */
  correlationId: string;
  /** Event id of the identified event that caused this one. */
  causationId: string;
  /** Enterprise patient id. */
  epid: string;
  /** Urgency tier. */
  tier: Tier;
  /** What the source message did to the record. */
  changeType: ChangeType;
  /** When the clinical event happened (UTC), when the source says. */
  occurredAt: null | number;
  /** When the source recorded the message (MSH-7 / meta.lastUpdated) or receipt time. */
  recordedAt: number;
  /** When ingest received the original message. */
  receivedAt: number;
  /** Sender. */
  source: MessageSource;
  /** Canonical resource type of the primary record (Patient, Encounter, Observation, ...) or Message when not yet mapped. */
  resourceType: string;
  /** Stable id of the primary canonical record (same across corrections and replays). */
  canonicalId: string;
  /** The canonical record(s) as JSON (the typed records arrive with the mappers). */
  document: string;
  /** Provenance of the record. */
  provenance: Provenance;
}

export type ChangeType = 'CREATE' | 'UPDATE' | 'CANCEL' | 'MERGE';
export const ChangeTypeValues = ['CREATE', 'UPDATE', 'CANCEL', 'MERGE'] as const;

/** Where a canonical record came from. */
export interface Provenance {
  /** Sending application. */
  sourceSystem: string;
  /** Source message control id. */
  messageId: string;
  /** HL7V2 or FHIR_R4. */
  sourceFormat: string;
  /** Source message type. */
  sourceMessageType: string;
  /** Version of the mapping that produced the record. */
  mappingVersion: string;
  /** Source fields (paths) that fed the record. */
  sourceFields: Array<string>;
}

/** A canonical event with its policy decision. Keyed by EPID. */
export interface RoutedEvent {
  /** Deterministic event id. */
  eventId: string;
  /** Id of the original message. */
  correlationId: string;
  /** Event id of the canonical event that caused this one. */
  causationId: string;
  /** Enterprise patient id. */
  epid: string;
  /** Urgency tier after policy (escalation only). */
  tier: Tier;
  /** Why and where the event is routed. */
  decision: PolicyDecision;
  /** The canonical event being routed. */
  canonical: CanonicalEvent;
}

/** An explainable routing decision. */
export interface PolicyDecision {
  /** Version of the policy set that decided. */
  policyVersion: string;
  /** Rules that fired, in order. */
  ruleIds: Array<string>;
  /** Workflows that must act on the event. */
  workflows: Array<string>;
  /** Subscriber audiences that may receive the event. */
  audiences: Array<string>;
  /** Tier before any escalation. */
  originalTier: Tier;
  /** Human-readable explanation of the decision. */
  explanation: string;
}

/** A change to a clinical work item. Keyed by EPID. */
export interface TaskEvent {
  /** Deterministic event id. */
  eventId: string;
  /** Id of the original message. */
  correlationId: string;
  /** Event id that caused this change. */
  causationId: string;
  /** Enterprise patient id. */
  epid: string;
  /** Urgency tier. */
  tier: Tier;
  /** Task id (deterministic from the routed event and workflow). */
  taskId: string;
  /** What happened to the task. */
  change: TaskChange;
  /** Workflow the task belongs to. */
  workflow: string;
  /** Task status after the change. */
  status: string;
  /** Short description without PHI (e.g. 'Review ADT^A01'). */
  title: string;
  /** When the task is due (SLA by tier). */
  dueAt: number;
  /** Subscriber audiences allowed to receive it. */
  audiences: Array<string>;
  /** Source message type. */
  messageType: string;
  /** Canonical resource type. */
  resourceType: string;
  /** Canonical record id. */
  canonicalId: string;
  /** When ingest received the original message. */
  receivedAt: number;
}

export type TaskChange = 'CREATED' | 'UPDATED' | 'ESCALATED' | 'COMPLETED' | 'CANCELLED';
export const TaskChangeValues = ['CREATED', 'UPDATED', 'ESCALATED', 'COMPLETED', 'CANCELLED'] as const;

/** A webhook delivery receipt. Keyed by subscription id. */
export interface DeliveryEvent {
  /** Deterministic event id. */
  eventId: string;
  /** Id of the original message. */
  correlationId: string;
  /** Delivery id (idempotency key sent to the subscriber). */
  deliveryId: string;
  /** Subscription delivered to. */
  subscriptionId: string;
  /** Event id that was delivered. */
  sourceEventId: string;
  /** Outcome. */
  status: DeliveryStatus;
  /** Attempts made. */
  attempts: number;
  /** Subscriber's HTTP status, if any. */
  httpStatus: null | number;
  /** When the outcome was recorded. */
  at: number;
}

export type DeliveryStatus = 'DELIVERED' | 'FAILED' | 'DEAD';
export const DeliveryStatusValues = ['DELIVERED', 'FAILED', 'DEAD'] as const;

/** A change in the master patient index. Keyed by EPID. */
export interface IdentityEvent {
  /** Deterministic event id. */
  eventId: string;
  /** Id of the original message. */
  correlationId: string;
  /** What changed. */
  type: IdentityChange;
  /** The (surviving) enterprise patient id. */
  epid: string;
  /** The other person in a merge or unmerge. */
  otherEpid: null | string;
  /** Opaque source patient key of the record involved. */
  recordKey: string;
  /** Match method. */
  method: string;
  /** Match score. */
  score: null | number;
  /** When it changed. */
  at: number;
}

export type IdentityChange = 'PERSON_CREATED' | 'RECORD_LINKED' | 'PERSONS_MERGED' | 'PERSONS_UNMERGED' | 'REVIEW_REQUIRED';
export const IdentityChangeValues = ['PERSON_CREATED', 'RECORD_LINKED', 'PERSONS_MERGED', 'PERSONS_UNMERGED', 'REVIEW_REQUIRED'] as const;

/** An event a service could not process: the original bytes and headers with the error. Keyed by the original key. */
export interface DeadLetter {
  /** Id of this dead letter. */
  eventId: string;
  /** Service that failed. */
  service: string;
  /** Consumer group that failed. */
  consumerGroup: string;
  /** Original topic. */
  topic: string;
  /** Original partition. */
  partition: number;
  /** Original offset. */
  offset: number;
  /** Original key bytes. */
  key: null | Buffer;
  /** Original value bytes. */
  value: null | Buffer;
  /** Original headers. */
  headers: Record<string, string>;
  /** Stable error code. */
  errorCode: string;
  /** Error message (no PHI). */
  errorMessage: string;
  /** When it was dead-lettered. */
  failedAt: number;
  /** Processing attempts made. */
  attempts: number;
}
