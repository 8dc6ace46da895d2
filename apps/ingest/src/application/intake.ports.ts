import type { IngestedEvent } from '@clinmesh/schemas';
import { EventContext, EventOrigin, UnitOfWork } from '@clinmesh/event-runtime';
import { IntakeResult, RejectionReason } from '../domain/intake-outcome';

export interface StoredMessageRef {
  messageId: string;
  contentHash: string;
  ack: string | null;
  tier: string;
  flags: string[];
}

/** An accepted message as stored: the raw bytes exactly as received, its identity, triage and ACK. */
export interface AcceptedMessageRow {
  messageId: string; sender: string; controlId: string; contentHash: string; format: 'HL7V2' | 'FHIR_R4'; channel: 'MLLP' | 'HTTP';
  messageType: string; tier: string; triageRule: string; receivedAt: number; raw: Buffer; ack: string | null;
}

/**
 * Where ingest keeps raw messages, their ACKs and rejections (its own database).
 * A message is identified by sender, control id and content hash: the same
 * three again is a duplicate; the same sender and control id with other
 * content is a new message, flagged `control-id-reuse`.
 */
export interface MessageStorePort {
  /** The stored message with this sender, control id and content: the original of a duplicate. */
  findDuplicate(uow: UnitOfWork | null, sender: string, controlId: string, contentHash: string): Promise<StoredMessageRef | undefined>;
  /**
   * Stores accepted messages (one group, in order) and returns each one's flags (`control-id-reuse` when
   * the sender used this control id before — earlier in the group included — for other content);
   * `undefined` (nothing written) for one whose sender + control id + content is already stored.
   * Arrivals under one sender + control id are serialised, so the flag holds under races.
   */
  insertAccepted(uow: UnitOfWork, rows: ReadonlyArray<AcceptedMessageRow>): Promise<Array<{ flags: string[] } | undefined>>;
  insertRejection(row: {
    id: string; sender: string; channel: 'MLLP' | 'HTTP'; messageType: string | null; controlId: string | null; reason: RejectionReason;
    detail: string; raw: Buffer; receivedAt: number; contentHash: string;
  }): Promise<void>;
}

/**
 * The runtime's one publish path as ingest uses it: accepted messages are stored and
 * their ingested events emitted (transactional outbox) in one transaction, each event
 * with its own message's origin.
 */
export interface EventPublisherPort {
  inTransactionEach<T>(origins: readonly EventOrigin[], work: (contexts: EventContext[]) => Promise<T>): Promise<T>;
}

/** Where an accepted message's events come from: the message itself (its id is the correlation id). */
export function messageOrigin(event: IngestedEvent): EventOrigin {
  return { id: event.correlationId, correlationId: event.correlationId, tier: event.tier, source: event.source.system, receivedAt: event.receivedAt };
}

export interface IntakeMetricsPort {
  outcome(labels: { sender: string; messageType: string; tier: string; outcome: IntakeResult['status']; reason?: string; channel: string }): void;
  /** A message accepted under a control id its sender had used for other content. */
  controlIdReuse(labels: { sender: string; messageType: string; channel: string; format: 'HL7V2' | 'FHIR_R4' }): void;
}
