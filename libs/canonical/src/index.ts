/**
 * @clinmesh/canonical — pure mappers from HL7 v2 and FHIR R4 into the
 * canonical clinical model (schemas/CanonicalEvent.avsc), terminology maps as
 * data, UCUM units and clinical time handling. Framework-free; see README.md.
 */
export { mapToCanonical } from './canonical.mapper';
export { mapHl7v2 } from './hl7v2/hl7v2-canonical.mapper';
export { mapFhir } from './fhir/fhir-canonical.mapper';
export { renderFhir } from './fhir/canonical-fhir.renderer';
export { MappingSession, type MappingInput, type MappingOptions } from './model/mapping-session';
export {
  MAPPER_VERSION, RECORD_LISTS, emptyRecords, listRecords, canonicalId, type CanonicalMapping, type CanonicalRecordType,
} from './model/canonical-records';
export {
  TerminologyMaps, parseTerminologyMapData, LOINC, SNOMED, RXNORM, CVX, ICD10CM,
  type TerminologyMapData, type MappedCode, type SourceCoding, type UnmappedReport,
} from './terminology/terminology-map';
export { hl7Time, fhirTime, zoneOffsetAt, zoneOffsetMinutesAt, isValidTimeZone, clinicalTimeIso, UnreadableTimeError } from './time/clinical-time';
export { toUcum, quantity, convertUcum, alternateQuantities, type UnitConversionData } from './units/ucum-units';
import defaultTerminology from './terminology/default-terminology.data.json';
import { TerminologyMapData } from './terminology/terminology-map';
/** The terminology maps shipped with the code (standard system aliases, a few common local lab codes). */
export const DEFAULT_TERMINOLOGY: TerminologyMapData = defaultTerminology as TerminologyMapData;
