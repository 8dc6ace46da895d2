import { hash } from 'node:crypto';
import type { CanonicalRecords, ChangeType, MappingIssue, UnmappedCode } from '@clinmesh/schemas';

/** Version of the mappers; part of every record's provenance (with the terminology map version). */
export const MAPPER_VERSION = 'canonical-1.1.0';

export type CanonicalRecordType =
  | 'Patient' | 'Encounter' | 'Observation' | 'DiagnosticReport' | 'ServiceRequest' | 'MedicationRequest'
  | 'MedicationAdministration' | 'Immunization' | 'Appointment' | 'Condition' | 'AllergyIntolerance' | 'DocumentReference'
  | 'Procedure' | 'Coverage';

/** Which list of {@link CanonicalRecords} holds each record type. */
export const RECORD_LISTS: Readonly<Record<CanonicalRecordType, keyof CanonicalRecords>> = {
  Patient: 'patients', Encounter: 'encounters', Observation: 'observations', DiagnosticReport: 'diagnosticReports',
  ServiceRequest: 'serviceRequests', MedicationRequest: 'medicationRequests', MedicationAdministration: 'medicationAdministrations',
  Immunization: 'immunizations', Appointment: 'appointments', Condition: 'conditions', AllergyIntolerance: 'allergies', DocumentReference: 'documents',
  Procedure: 'procedures', Coverage: 'coverages',
};

export function emptyRecords(): CanonicalRecords {
  return {
    patients: [], encounters: [], observations: [], diagnosticReports: [], serviceRequests: [], medicationRequests: [],
    medicationAdministrations: [], immunizations: [], appointments: [], conditions: [], allergies: [], documents: [],
    procedures: [], coverages: [],
  };
}

/** Every record with its type, in list order. */
export function listRecords(records: CanonicalRecords): Array<{ type: CanonicalRecordType; id: string; changeType: ChangeType; correction: boolean }> {
  const out: Array<{ type: CanonicalRecordType; id: string; changeType: ChangeType; correction: boolean }> = [];
  for (const [type, list] of Object.entries(RECORD_LISTS) as Array<[CanonicalRecordType, keyof CanonicalRecords]>) {
    for (const r of records[list] as Array<{ id: string; changeType: ChangeType; correction: boolean }>) out.push({ type, id: r.id, changeType: r.changeType, correction: r.correction });
  }
  return out;
}

const PREFIX: Readonly<Record<CanonicalRecordType, string>> = {
  Patient: 'pat', Encounter: 'enc', Observation: 'obs', DiagnosticReport: 'rpt', ServiceRequest: 'req', MedicationRequest: 'mrq',
  MedicationAdministration: 'mad', Immunization: 'imm', Appointment: 'apt', Condition: 'cnd', AllergyIntolerance: 'alg', DocumentReference: 'doc',
  Procedure: 'prc', Coverage: 'cov',
};

/**
 * A canonical id from the record's natural key (e.g. sender + filler order
 * number + test code + sub-id for a result). Deterministic, so an update, a
 * correction or a replay of the same fact lands on the same id; hashed, so
 * no identifier (PHI) is readable in it.
 */
export function canonicalId(type: CanonicalRecordType, naturalKey: Array<string | null | undefined>): string {
  // crypto.hash: one-shot, a third of createHash's cost (a mapped message takes a dozen of these ids).
  return `${PREFIX[type]}-${hash('sha256', `${type}|${naturalKey.map((p) => p ?? '').join('|')}`, 'hex').slice(0, 32)}`;
}

/** What a mapper returns for one message. */
export interface CanonicalMapping {
  records: CanonicalRecords;
  /** The record that stands for the message (drives the envelope's resourceType/canonicalId/changeType). */
  primary: { type: CanonicalRecordType; id: string; changeType: ChangeType } | null;
  unmappedCodes: UnmappedCode[];
  issues: MappingIssue[];
  /** When the source recorded the message (MSH-7 / Bundle.timestamp / meta.lastUpdated), epoch ms. */
  recordedAt: number | null;
  /** When the clinical event happened (EVN-2/EVN-6, OBR-7, ...), epoch ms. */
  occurredAt: number | null;
  /**
   * Confidentiality and sensitivity codes the source put on the message (HL7 v3 Confidentiality
   * N/R/V…, v3 ActCode HIV/PSY/ETH…), sorted: they cover the whole message, not one record.
   */
  securityLabels: string[];
}

/** Code systems whose codes are kept as message security labels (anything else in meta.security — integrity, handling — is not a confidentiality claim). */
export const SECURITY_LABEL_SYSTEMS: readonly string[] = [
  'http://terminology.hl7.org/CodeSystem/v3-Confidentiality',
  'http://terminology.hl7.org/CodeSystem/v3-ActCode',
];
