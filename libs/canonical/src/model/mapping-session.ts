import type { ClinicalTime, CodeableConcept, MappingIssue, Provenance, UnmappedCode } from '@clinmesh/schemas';
import { TerminologyMaps, SourceCoding } from '../terminology/terminology-map';
import { UnreadableTimeError, fhirTime, hl7Time } from '../time/clinical-time';
import { MAPPER_VERSION } from './canonical-records';

/** What a mapper needs to know about the message and its sender. */
export interface MappingInput {
  format: 'HL7V2' | 'FHIR_R4';
  /** The message as received (HL7 ER7 text / FHIR JSON). */
  raw: Buffer | string;
  messageType: string;
  messageId: string;
  sourceSystem: string;
  sourceFacility: string;
  /** Enterprise patient id (empty when unknown). */
  epid: string;
}

export interface MappingOptions {
  terminology: TerminologyMaps;
  /** IANA zone of the sender, for times without an offset; null = leave such instants unresolved. */
  senderTimeZone: string | null;
}

/**
 * Per-message state shared by the mappers: terminology lookups (collecting
 * unmapped codes), time reading (collecting issues instead of throwing) and
 * provenance stamps. A mapper never fails a message for a bad code or time.
 */
export class MappingSession {
  readonly unmappedCodes: UnmappedCode[] = [];
  readonly issues: MappingIssue[] = [];
  readonly mappingVersion: string;

  constructor(readonly input: MappingInput, readonly options: MappingOptions) {
    this.mappingVersion = `${MAPPER_VERSION}+terminology:${options.terminology.version}`;
  }

  concept(
    codings: SourceCoding[], text: string | null,
    where: { recordType: string; recordId: string; element: string; sourceField: string },
  ): CodeableConcept {
    const { concept, unmapped } = this.options.terminology.mapConcept(this.input.sourceSystem, codings, text);
    for (const u of unmapped) {
      this.unmappedCodes.push({ recordType: where.recordType, recordId: where.recordId, element: where.element, system: u.system, code: u.code, display: u.display, reason: u.reason, sourceField: where.sourceField });
    }
    return concept;
  }

  hl7Time(value: string | undefined, sourceField: string): ClinicalTime | null {
    try {
      return hl7Time(value, this.options.senderTimeZone);
    } catch (e) {
      if (!(e instanceof UnreadableTimeError)) throw e;
      this.issue('TIME.UNREADABLE', 'date/time value is not a valid HL7 DTM', sourceField);
      return null;
    }
  }

  fhirTime(value: unknown, sourceField: string): ClinicalTime | null {
    try {
      return fhirTime(value, this.options.senderTimeZone);
    } catch (e) {
      if (!(e instanceof UnreadableTimeError)) throw e;
      this.issue('TIME.UNREADABLE', 'date/time value is not a valid FHIR date/dateTime', sourceField);
      return null;
    }
  }

  issue(code: string, message: string, sourceField: string | null = null): void {
    this.issues.push({ code, message, sourceField });
  }

  provenance(sourceFields: string[]): Provenance {
    return {
      sourceSystem: this.input.sourceSystem,
      messageId: this.input.messageId,
      sourceFormat: this.input.format,
      sourceMessageType: this.input.messageType,
      mappingVersion: this.mappingVersion,
      sourceFields,
    };
  }
}
