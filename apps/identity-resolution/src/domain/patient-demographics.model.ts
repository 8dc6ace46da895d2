import type { PersonRecord } from '@clinmesh/empi';

/** An identifier as the source sent it (PID-3 / Patient.identifier), with SSNs put in one namespace. */
export interface SourceIdentifier {
  system: string;
  value: string;
  type?: string;
}

/** The demographics of one patient in a message, before it gets its record id. */
export type PatientDemographics = Omit<PersonRecord, 'recordId' | 'sourceSystem'> & { identifiers: SourceIdentifier[] };

/**
 * A merge instruction carried by the message itself (ADT^A40 / A47): the
 * prior identifier's record belongs to the patient of the accompanying PID.
 */
export interface MergeDirective {
  kind: 'merge' | 'identifier-change';
  /** HL7 trigger that carried it (A40, A47, …). */
  trigger: string;
  /** MRG-1: the prior patient identifier. */
  prior: SourceIdentifier;
  /** The PID of the same patient group: the surviving patient. */
  survivor: PatientDemographics;
}

export interface MessageDemographics {
  /** The message's patient (the first PID / the first Patient), if any. */
  patient?: PatientDemographics;
  merges: MergeDirective[];
}

/**
 * One namespace for US SSNs whichever way they arrive (PID-3 type SS with any
 * authority, PID-19, FHIR us-ssn): the trusted-identifier rule compares
 * system and value, and sources spell the SSN authority differently.
 */
export const SSN_SYSTEM = 'http://hl7.org/fhir/sid/us-ssn';

export function canonicalIdentifier(id: SourceIdentifier): SourceIdentifier {
  const type = id.type?.trim().toUpperCase() || undefined;
  if (type === 'SS' || id.system === SSN_SYSTEM) return { system: SSN_SYSTEM, value: id.value.replace(/[^0-9A-Za-z]/g, ''), type: 'SS' };
  return { system: id.system, value: id.value, ...(type ? { type } : {}) };
}

/** Splits "123 Any Street" into number and street (the comparator scores them separately). */
export function splitStreetLine(line: string | undefined): { streetNumber?: string; street?: string } {
  const text = line?.trim();
  if (!text) return {};
  const m = /^(\d+[A-Za-z]?(?:[-/]\d+)?)\s+(.+)$/.exec(text);
  return m ? { streetNumber: m[1], street: m[2].trim() } : { street: text };
}
