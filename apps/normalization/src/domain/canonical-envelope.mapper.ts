import { createHash } from 'node:crypto';
import type { CanonicalEvent, IdentifiedEvent } from '@clinmesh/schemas';

export const MAPPING_VERSION = 'envelope-0.1';

/**
 * The first canonical envelope: the message as one canonical "Message" record
 * with its provenance. Typed resource mappers (Patient, Encounter,
 * Observation...) replace `document` as they arrive; the envelope, ids and
 * provenance stay. The canonical id is stable for a source message so
 * corrections and replays land on the same record.
 */
export function toCanonicalEnvelope(identified: IdentifiedEvent, eventId: string, now: number): CanonicalEvent {
  const ing = identified.ingested;
  const canonicalId = `msg-${createHash('sha256').update(`${ing.source.system}|${ing.source.facility}|${ing.controlId}`).digest('hex').slice(0, 32)}`;
  return {
    eventId,
    correlationId: identified.correlationId,
    causationId: identified.eventId,
    epid: identified.epid,
    tier: identified.tier,
    changeType: 'CREATE',
    occurredAt: null,
    recordedAt: ing.receivedAt,
    receivedAt: ing.receivedAt,
    source: ing.source,
    resourceType: 'Message',
    canonicalId,
    document: JSON.stringify({
      resourceType: 'Message',
      id: canonicalId,
      format: ing.format,
      messageType: ing.messageType,
      controlId: ing.controlId,
      version: ing.version,
      contentType: ing.contentType,
      patient: identified.epid ? { epid: identified.epid } : null,
      mappedAt: new Date(now).toISOString(),
    }),
    provenance: {
      sourceSystem: ing.source.system,
      messageId: ing.controlId,
      sourceFormat: ing.format,
      sourceMessageType: ing.messageType,
      mappingVersion: MAPPING_VERSION,
      sourceFields: ing.format === 'HL7V2' ? ['MSH-9', 'MSH-10', 'MSH-12'] : ['resourceType', 'id'],
    },
  };
}
