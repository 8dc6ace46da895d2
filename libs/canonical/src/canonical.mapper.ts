import { mapFhir } from './fhir/fhir-canonical.mapper';
import { mapHl7v2 } from './hl7v2/hl7v2-canonical.mapper';
import { CanonicalMapping, emptyRecords } from './model/canonical-records';
import { MappingInput, MappingOptions, MappingSession } from './model/mapping-session';

/**
 * One source message → canonical records. Never throws for the content of a
 * message: a message that cannot be parsed at all yields no records and a
 * MESSAGE.UNPARSEABLE issue (the envelope is still published, so nothing is
 * lost downstream); unmappable codes and times are flagged, not fatal.
 */
export function mapToCanonical(input: MappingInput, options: MappingOptions): CanonicalMapping & { mappingVersion: string } {
  const session = new MappingSession(input, options);
  try {
    const mapping = input.format === 'HL7V2' ? mapHl7v2(session) : mapFhir(session);
    // Assigned, not `{ ...mapping, mappingVersion }`: a key added after a leading spread is slow in V8 (hl7v2 mapper, `withMeta`).
    return Object.assign(mapping, { mappingVersion: session.mappingVersion });
  } catch (error) {
    // Only parse failures reach here (mappers read defensively); the reason carries no message content.
    const code = (error as { code?: string }).code ?? (error as Error).name;
    return {
      records: emptyRecords(), primary: null, unmappedCodes: [], recordedAt: null, occurredAt: null, securityLabels: [], mappingVersion: session.mappingVersion,
      issues: [{ code: 'MESSAGE.UNPARSEABLE', message: `the message could not be parsed (${code}); only the envelope is published`, sourceField: null }],
    };
  }
}
