import { hash } from 'node:crypto';
import { CanonicalMapping, listRecords } from '@clinmesh/canonical';
import type { CanonicalEvent, IdentifiedEvent } from '@clinmesh/schemas';

/**
 * The canonical event for one identified message: the envelope (ids, EPID,
 * tier, change type, times, source, provenance) around the typed records the
 * mappers produced. `resourceType`/`canonicalId`/`changeType` describe the
 * primary record; a message that produced none stays a `Message` envelope
 * under a canonical id stable for the source message.
 */
export function toCanonicalEvent(identified: IdentifiedEvent, mapping: CanonicalMapping & { mappingVersion: string }): Omit<CanonicalEvent, 'eventId'> {
  const ing = identified.ingested;
  const canonicalId = mapping.primary?.id
    ?? `msg-${hash('sha256', `${ing.source.system}|${ing.source.facility}|${ing.controlId}`, 'hex').slice(0, 32)}`;
  const resourceType = mapping.primary?.type ?? 'Message';
  const records = listRecords(mapping.records);
  return {
    correlationId: identified.correlationId,
    causationId: identified.eventId,
    epid: identified.epid,
    tier: identified.tier,
    changeType: mapping.primary?.changeType ?? 'CREATE',
    occurredAt: mapping.occurredAt,
    recordedAt: mapping.recordedAt ?? ing.receivedAt,
    receivedAt: ing.receivedAt,
    source: ing.source,
    resourceType,
    canonicalId,
    document: JSON.stringify({
      resourceType, id: canonicalId, format: ing.format, messageType: ing.messageType, controlId: ing.controlId, version: ing.version,
      patient: identified.epid ? { epid: identified.epid } : null,
      records: records.map((r) => ({ resourceType: r.type, id: r.id, changeType: r.changeType, correction: r.correction })),
      // Message-level confidentiality the source sent (policy labels the whole event with it).
      ...(mapping.securityLabels.length ? { security: mapping.securityLabels } : {}),
    }),
    provenance: {
      sourceSystem: ing.source.system,
      messageId: ing.controlId,
      sourceFormat: ing.format,
      sourceMessageType: ing.messageType,
      mappingVersion: mapping.mappingVersion,
      sourceFields: ing.format === 'HL7V2' ? ['MSH-3', 'MSH-4', 'MSH-7', 'MSH-9', 'MSH-10', 'MSH-12'] : ['resourceType', 'id', 'meta.lastUpdated'],
    },
    records: mapping.records,
    unmappedCodes: mapping.unmappedCodes,
    issues: mapping.issues,
    supersedesEventId: null,
  };
}

/**
 * Fingerprint of what the mapping said (not when it ran): equal for a plain
 * replay, different after a terminology map change — which is what makes a
 * re-mapped event a new event downstream while a replay stays a duplicate.
 */
export function contentFingerprint(event: Omit<CanonicalEvent, 'eventId'>): string {
  const { supersedesEventId: _ignored, ...content } = event;
  return hash('sha256', JSON.stringify(content), 'hex').slice(0, 24);
}
