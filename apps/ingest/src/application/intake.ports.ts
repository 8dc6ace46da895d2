import type { IngestedEvent } from '@clinmesh/schemas';
import { EventContext, EventOrigin, UnitOfWork } from '@clinmesh/event-runtime';
import { IntakeResult, RejectionReason } from '../domain/intake-outcome';

export interface StoredMessageRef {
  messageId: string;
  contentHash: string;
  ack: string | null;
  tier: string;
}

/** Where ingest keeps raw messages, their ACKs and rejections (its own database). */
export interface MessageStorePort {
  findBySenderAndControlId(uow: UnitOfWork | null, sender: string, controlId: string): Promise<StoredMessageRef | undefined>;
  /** Stores an accepted message; `false` (nothing written) when this sender already used this control id. */
  insertAccepted(uow: UnitOfWork, row: {
    messageId: string; sender: string; controlId: string; contentHash: string; format: 'HL7V2' | 'FHIR_R4'; channel: 'MLLP' | 'HTTP';
    messageType: string; tier: string; triageRule: string; receivedAt: number; raw: Buffer; ack: string | null;
  }): Promise<boolean>;
  insertRejection(row: {
    id: string; sender: string; channel: 'MLLP' | 'HTTP'; messageType: string | null; controlId: string | null; reason: RejectionReason;
    detail: string; raw: Buffer; receivedAt: number; contentHash: string;
  }): Promise<void>;
}

/**
 * The runtime's one publish path as ingest uses it: the message is stored and
 * its ingested event emitted (transactional outbox) in one transaction.
 */
export interface EventPublisherPort {
  inTransaction<T>(origin: EventOrigin, work: (ctx: EventContext) => Promise<T>): Promise<T>;
}

/** Where an accepted message's events come from: the message itself (its id is the correlation id). */
export function messageOrigin(event: IngestedEvent): EventOrigin {
  return { id: event.correlationId, correlationId: event.correlationId, tier: event.tier, source: event.source.system, receivedAt: event.receivedAt };
}

export interface IntakeMetricsPort {
  outcome(labels: { sender: string; messageType: string; tier: string; outcome: IntakeResult['status']; reason?: string; channel: string }): void;
}
