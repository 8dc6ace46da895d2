import { deriveEventId } from '@clinmesh/event-runtime';

/**
 * The id of an accepted message, derived from what makes it this message:
 * format, sender, control id and content hash. A retry of the identical
 * message gets the same id (and so the same ingested event id, derived from
 * it); new content under a reused control id gets an id of its own.
 */
export function intakeMessageId(format: 'HL7V2' | 'FHIR_R4', sender: string, controlId: string, contentHash: string): string {
  return deriveEventId(`${format}\u0000${sender}\u0000${controlId}\u0000${contentHash}`, 'ingest-message');
}
