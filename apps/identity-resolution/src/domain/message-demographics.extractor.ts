import { parseHl7Message } from '@clinmesh/hl7v2';
import { readHl7Demographics } from './hl7-demographics.reader';
import { readFhirDemographics } from './fhir-demographics.reader';
import type { MessageDemographics } from './patient-demographics.model';

/**
 * Demographics of an ingested message from its original bytes. Ingest has
 * already validated the payload; if it cannot be read here after all, the
 * message is still identified by its source key (empty demographics), never
 * dropped.
 */
export function extractMessageDemographics(format: 'HL7V2' | 'FHIR_R4', raw: Buffer): MessageDemographics {
  try {
    if (format === 'HL7V2') return readHl7Demographics(parseHl7Message(raw));
    const text = new TextDecoder('utf-8').decode(raw).replace(/^\uFEFF/, '');
    return readFhirDemographics(JSON.parse(text));
  } catch {
    return { merges: [] };
  }
}
