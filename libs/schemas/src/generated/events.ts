// Generated from schemas/*.avsc by tools/generate-event-types — do not edit.
/* eslint-disable */

/** A message accepted by ingest: stored durably and acknowledged. Keyed by the source patient key (an HMAC of the source identifier, never readable PHI). */
export interface IngestedEvent {
  /** Unique, deterministic event id (UUID). */
  eventId: string;
  /** Id of the original message, carried through every stage. */
  correlationId: string;
  /** When ingest received the original message (epoch ms, UTC). */
  receivedAt: number;
  /** Urgency tier assigned by triage. */
  tier: Tier;
  /** Id of the triage rule that assigned the tier. */
  triageRule: string;
  /** Sender of the message. */
  source: MessageSource;
  /** Wire format of the original message. */
  format: MessageFormat;
  /** HL7 MSH-9 as TYPE^TRIGGER (e.g. ADT^A01) or the FHIR resource type (e.g. Bundle/Patient). */
  messageType: string;
  /** HL7 MSH-10 message control id or the FHIR resource/Bundle id. */
  controlId: string;
  /** HL7 version (MSH-12) or FHIR version. */
  version?: null | string;
  /** Opaque key of the patient at the source: HMAC-SHA256(authority|identifier), hex; empty when the message has no patient. */
  sourcePatientKey: string;
  /** Patient identifiers found in the message. */
  patientIdentifiers: Array<PatientIdentifier>;
  /** Media type of raw (x-application/hl7-v2+er7 or application/fhir+json). */
  contentType: string;
  /** The original message bytes, exactly as received. */
  raw: Buffer;
}

/** Urgency tier: stat (minutes matter), urgent (this shift), routine (today), bulk (whenever). */
export type Tier = 'stat' | 'urgent' | 'routine' | 'bulk';
export const TierValues = ['stat', 'urgent', 'routine', 'bulk'] as const;

/** Who sent the original message. */
export interface MessageSource {
  /** Sending application (HL7 MSH-3, FHIR meta.source or the authenticated client). */
  system: string;
  /** Sending facility (HL7 MSH-4) or empty when unknown. */
  facility: string;
  /** Transport the message arrived on. */
  channel: Channel;
}

export type Channel = 'MLLP' | 'HTTP';
export const ChannelValues = ['MLLP', 'HTTP'] as const;

export type MessageFormat = 'HL7V2' | 'FHIR_R4';
export const MessageFormatValues = ['HL7V2', 'FHIR_R4'] as const;

/** A patient identifier as sent by the source (PID-3 / Patient.identifier). */
export interface PatientIdentifier {
  /** Assigning authority or identifier system URI. */
  system: string;
  /** The identifier value. */
  value: string;
  /** Identifier type code (HL7 table 0203, e.g. MR, SS). */
  type: null | string;
}

/** An ingested message tied to an enterprise patient id (EPID). Keyed by EPID. */
export interface IdentifiedEvent {
  /** Deterministic event id derived from the ingested event id. */
  eventId: string;
  /** Id of the original message. */
  correlationId: string;
  /** Event id of the ingested event that caused this one. */
  causationId: string;
  /** Enterprise patient id; empty when the message carries no patient. */
  epid: string;
  /** Urgency tier (may be raised, never lowered). */
  tier: Tier;
  /** Match explanation. */
  identity: IdentityAssertion;
  /** The ingested event this identifies. */
  ingested: IngestedEvent;
}

/** How the message was tied to an enterprise patient. */
export interface IdentityAssertion {
  /** Match method: deterministic-identifier, trusted-identifier, probabilistic, new, none. */
  method: string;
  /** Match score (log2 weight) when probabilistic. */
  score: null | number;
  /** True when this message created the person. */
  personCreated: boolean;
}

/** A clinical fact in the canonical model: the public contract for analytics. Keyed by EPID. */
export interface CanonicalEvent {
  /** Deterministic event id. */
  eventId: string;
  /** Id of the original message. */
  correlationId: string;
  /** Event id of the identified event that caused this one. */
  causationId: string;
  /** Enterprise patient id. */
  epid: string;
  /** Urgency tier. */
  tier: Tier;
  /** What the source message did to the record. */
  changeType: ChangeType;
  /** When the clinical event happened (UTC), when the source says. */
  occurredAt?: null | number;
  /** When the source recorded the message (MSH-7 / meta.lastUpdated) or receipt time. */
  recordedAt: number;
  /** When ingest received the original message. */
  receivedAt: number;
  /** Sender. */
  source: MessageSource;
  /** Canonical resource type of the primary record (Patient, Encounter, Observation, DiagnosticReport, ServiceRequest, ...) or Message when the message produced no typed record. */
  resourceType: string;
  /** Stable id of the primary canonical record (same across corrections and replays). */
  canonicalId: string;
  /** A JSON summary of the message and of the records it produced ({resourceType, id, messageType, records: [{resourceType, id}]}); the typed records are in `records`. */
  document: string;
  /** Provenance of the record. */
  provenance: Provenance;
  /** The typed canonical records this message produced (empty lists for a message that carries none of them). */
  records?: CanonicalRecords;
  /** Every local code in records that could not be mapped (also flagged on the coding itself). */
  unmappedCodes?: Array<UnmappedCode>;
  /** Mapping issues: what could not be mapped faithfully and why. */
  issues?: Array<MappingIssue>;
  /** When a replay re-mapped the same source event differently (e.g. after a terminology map change), the event id of the canonical event this one supersedes. */
  supersedesEventId?: null | string;
}

export type ChangeType = 'CREATE' | 'UPDATE' | 'CANCEL' | 'MERGE';
export const ChangeTypeValues = ['CREATE', 'UPDATE', 'CANCEL', 'MERGE'] as const;

/** Where a canonical record came from. */
export interface Provenance {
  /** Sending application. */
  sourceSystem: string;
  /** Source message control id. */
  messageId: string;
  /** HL7V2 or FHIR_R4. */
  sourceFormat: string;
  /** Source message type. */
  sourceMessageType: string;
  /** Version of the mapping that produced the record. */
  mappingVersion: string;
  /** Source fields (paths) that fed the record. */
  sourceFields: Array<string>;
}

/** The typed canonical records one source message produced, one list per resource type. */
export interface CanonicalRecords {
  /** Patients. */
  patients: Array<Patient>;
  /** Encounters. */
  encounters: Array<Encounter>;
  /** Observations (results, vital signs). */
  observations: Array<Observation>;
  /** Diagnostic reports. */
  diagnosticReports: Array<DiagnosticReport>;
  /** Orders and referrals. */
  serviceRequests: Array<ServiceRequest>;
  /** Medication orders. */
  medicationRequests: Array<MedicationRequest>;
  /** Medication administrations and dispenses. */
  medicationAdministrations: Array<MedicationAdministration>;
  /** Immunizations. */
  immunizations: Array<Immunization>;
  /** Appointments. */
  appointments: Array<Appointment>;
  /** Conditions. */
  conditions: Array<Condition>;
  /** Allergies and intolerances. */
  allergies: Array<AllergyIntolerance>;
  /** Documents. */
  documents: Array<DocumentReference>;
  /** Procedures (PR1, Procedure). */
  procedures: Array<Procedure>;
  /** Insurance coverages (IN1, Coverage). */
  coverages: Array<Coverage>;
}

/** A patient as the source described them. */
export interface Patient {
  /** Canonical id of the patient: stable across updates, corrections and replays. */
  id: string;
  /** What the source did to this record. */
  changeType: ChangeType;
  /** True when this record corrects an earlier one (HL7 OBX-11/OBR-25 = C, MDM replacement, FHIR status amended/corrected); it replaces the earlier record with the same id. */
  correction: boolean;
  /** Where this record came from: source system, message id, mapping version and the source fields that fed it. */
  provenance: Provenance;
  /** Identifiers (PID-2/3/4/19/20, Patient.identifier). */
  identifiers: Array<Identifier>;
  /** Names (PID-5/9, Patient.name). */
  names: Array<HumanName>;
  /** Date of birth, YYYY[-MM[-DD]] as given (no time zone shift). */
  birthDate: null | string;
  /** FHIR administrative gender: male, female, other, unknown. */
  gender: null | string;
  /** Addresses (PID-11, Patient.address). */
  addresses: Array<Address>;
  /** Phones and emails (PID-13/14, Patient.telecom). */
  telecoms: Array<ContactPoint>;
  /** Deceased indicator (PID-30, Patient.deceasedBoolean). */
  deceased: null | boolean;
  /** Date/time of death (PID-29, Patient.deceasedDateTime). */
  deceasedAt: null | ClinicalTime;
  /** Marital status (PID-16). */
  maritalStatus: null | CodeableConcept;
  /** Identifiers of the record merged into this one (MRG-1, ADT^A40 and siblings). */
  mergedIdentifiers: Array<Identifier>;
}

/** A business identifier. */
export interface Identifier {
  /** Assigning authority (HL7 CX-4/EI-2) or identifier system URI. */
  system: null | string;
  /** The identifier value. */
  value: string;
  /** Identifier type code (HL7 table 0203, e.g. MR, PLAC, FILL, VN). */
  type: null | string;
}

/** A person name. */
export interface HumanName {
  /** Family name. */
  family: null | string;
  /** Given names, first then middle. */
  given: Array<string>;
  /** Prefixes (Dr). */
  prefix: Array<string>;
  /** Suffixes (Jr, III). */
  suffix: Array<string>;
  /** FHIR name use (official, usual, maiden, nickname...). */
  use: null | string;
}

/** A postal address. */
export interface Address {
  /** Street lines. */
  lines: Array<string>;
  /** City. */
  city: null | string;
  /** State or province. */
  state: null | string;
  /** Postal code (as a string). */
  postalCode: null | string;
  /** Country. */
  country: null | string;
  /** FHIR address use (home, work, temp, old). */
  use: null | string;
}

/** A phone number or email address. */
export interface ContactPoint {
  /** phone, email, fax, url, other. */
  system: null | string;
  /** The number or address. */
  value: string;
  /** home, work, mobile, temp. */
  use: null | string;
}

/** A point in time as the source stated it and as a UTC instant. */
export interface ClinicalTime {
  /** The UTC instant (epoch ms); null when the source gave only a date (see date) or the value could not be read. */
  instant: null | number;
  /** The value exactly as the source wrote it (HL7 DTM/DT or FHIR date/dateTime/instant). */
  original: string;
  /** UTC offset that applied (+HH:MM); the source offset, or the sender time zone offset when offsetSource is SENDER_TIME_ZONE. */
  offset: null | string;
  /** Precision of the source value. */
  precision: TimePrecision;
  /** SOURCE: written in the value; SENDER_TIME_ZONE: missing in the value and resolved from the sender's configured time zone; NONE: date-only or unresolvable (instant is null). */
  offsetSource: OffsetSource;
  /** Calendar date (YYYY, YYYY-MM or YYYY-MM-DD) for date-precision values, in the source's local calendar. */
  date: null | string;
}

/** How precise the source value was. */
export type TimePrecision = 'YEAR' | 'MONTH' | 'DAY' | 'HOUR' | 'MINUTE' | 'SECOND' | 'MILLISECOND';
export const TimePrecisionValues = ['YEAR', 'MONTH', 'DAY', 'HOUR', 'MINUTE', 'SECOND', 'MILLISECOND'] as const;

/** Where the UTC offset came from. */
export type OffsetSource = 'SOURCE' | 'SENDER_TIME_ZONE' | 'NONE';
export const OffsetSourceValues = ['SOURCE', 'SENDER_TIME_ZONE', 'NONE'] as const;

/** A concept: codings (standard first) and the source text. */
export interface CodeableConcept {
  /** Codings, standard or mapped first, then the codes as sent. */
  codings: Array<Coding>;
  /** Text as the source gave it. */
  text: null | string;
}

/** One code from a code system, with how it was obtained. */
export interface Coding {
  /** Code system URI (http://loinc.org, http://snomed.info/sct, http://www.nlm.nih.gov/research/umls/rxnorm, http://hl7.org/fhir/sid/cvx, http://hl7.org/fhir/sid/icd-10-cm, a terminology.hl7.org URI) or the local system name when unmapped. */
  system: null | string;
  /** The code. */
  code: string;
  /** Display text. */
  display: null | string;
  /** STANDARD: the source sent a standard code, passed through; MAPPED: a local code translated through the terminology map; UNMAPPED: a local code with no map entry, kept as sent. */
  mapping: CodingMapping;
  /** True when this is a local code the terminology maps could not translate (kept, never dropped). */
  unmapped: boolean;
  /** Why the code is unmapped (e.g. NO_MAP_ENTRY, UNKNOWN_SYSTEM, NO_SYSTEM). */
  unmappedReason: null | string;
  /** The source code system when the code was mapped (MAPPED), else null. */
  originalSystem: null | string;
  /** The source code when the code was mapped (MAPPED), else null. */
  originalCode: null | string;
}

/** How a coding was obtained. */
export type CodingMapping = 'STANDARD' | 'MAPPED' | 'UNMAPPED';
export const CodingMappingValues = ['STANDARD', 'MAPPED', 'UNMAPPED'] as const;

/** A visit or admission. */
export interface Encounter {
  /** Canonical id of the encounter: stable across updates, corrections and replays. */
  id: string;
  /** What the source did to this record. */
  changeType: ChangeType;
  /** True when this record corrects an earlier one (HL7 OBX-11/OBR-25 = C, MDM replacement, FHIR status amended/corrected); it replaces the earlier record with the same id. */
  correction: boolean;
  /** Canonical id of the patient record this belongs to. */
  patientId: null | string;
  /** Where this record came from: source system, message id, mapping version and the source fields that fed it. */
  provenance: Provenance;
  /** Visit numbers (PV1-19, Encounter.identifier). */
  identifiers: Array<Identifier>;
  /** FHIR encounter status: planned, arrived, in-progress, finished, cancelled, entered-in-error, unknown. */
  status: null | string;
  /** Encounter class (v3 ActCode: IMP, AMB, EMER, PRENC, OBSENC...) from PV1-2 / Encounter.class. */
  class: null | Coding;
  /** Admission type (PV1-4, Encounter.type). */
  type: null | CodeableConcept;
  /** Admit (PV1-44) to discharge (PV1-45), Encounter.period. */
  period: Period;
  /** Assigned location as point^room^bed^facility (PV1-3) or location display. */
  location: null | string;
  /** Hospital service (PV1-10). */
  hospitalService: null | string;
  /** Discharge disposition (PV1-36). */
  dischargeDisposition: null | CodeableConcept;
  /** Expected admit (PV2-8) to expected discharge (PV2-9); a planned encounter without an actual admit also carries it as its period. */
  expectedPeriod: null | Period;
}

/** A time span. */
export interface Period {
  /** Start. */
  start: null | ClinicalTime;
  /** End. */
  end: null | ClinicalTime;
}

/** A result or measurement. */
export interface Observation {
  /** Canonical id of the observation: stable across updates, corrections and replays. */
  id: string;
  /** What the source did to this record. */
  changeType: ChangeType;
  /** True when this record corrects an earlier one (HL7 OBX-11/OBR-25 = C, MDM replacement, FHIR status amended/corrected); it replaces the earlier record with the same id. */
  correction: boolean;
  /** Canonical id of the patient record this belongs to. */
  patientId: null | string;
  /** Where this record came from: source system, message id, mapping version and the source fields that fed it. */
  provenance: Provenance;
  /** FHIR observation status: registered, preliminary, final, amended, corrected, cancelled, entered-in-error, unknown. */
  status: null | string;
  /** What was observed (OBX-3, Observation.code); LOINC when known. */
  code: CodeableConcept;
  /** Value type as sent (HL7 OBX-2: NM, SN, ST, CWE...; FHIR value[x] suffix). */
  valueType: null | string;
  /** Numeric value and unit (NM/SN, valueQuantity). */
  valueQuantity: null | Quantity;
  /** Text value (ST/TX/FT, valueString). */
  valueString: null | string;
  /** Coded value (CE/CWE, valueCodeableConcept). */
  valueCode: null | CodeableConcept;
  /** Date/time value (DT/DTM/TS, valueDateTime). */
  valueTime: null | ClinicalTime;
  /** The value converted to other UCUM units by the conversion table (e.g. glucose mg/dL ↔ mmol/L). */
  convertedValues: Array<Quantity>;
  /** Reference range (OBX-7, Observation.referenceRange). */
  referenceRange: null | ReferenceRange;
  /** Interpretation / abnormal flags (OBX-8, Observation.interpretation), v3 ObservationInterpretation. */
  interpretation: Array<Coding>;
  /** Clinically relevant time (OBX-14, else OBR-7; Observation.effective[x]). */
  effective: null | ClinicalTime;
  /** When the result was released (OBR-22, Observation.issued). */
  issued: null | ClinicalTime;
  /** Canonical id of the diagnostic report it belongs to. */
  reportId: null | string;
  /** Canonical id of the order it answers. */
  orderId: null | string;
  /** Observation sub-id (OBX-4) distinguishing repeated codes. */
  subId: null | string;
  /** Canonical id of the event this observation is part of or describes: the Immunization a VXU OBX follows (funding, VIS), the MedicationRequest of a pharmacy order OBX, the Procedure of a PR1 group. */
  partOfId: null | string;
  /** Record type of partOfId (Immunization, MedicationRequest, Procedure, DocumentReference). */
  partOfType: null | string;
}

/** A measured amount. */
export interface Quantity {
  /** Numeric value. */
  value: null | number;
  /** <, <=, >=, > when the source qualified the value. */
  comparator: null | string;
  /** Unit exactly as sent. */
  unit: null | string;
  /** The unit as a valid UCUM code, or null when the sent unit is not UCUM and has no known alias. */
  ucum: null | string;
}

/** Reference range of a result. */
export interface ReferenceRange {
  /** Lower bound in the result unit. */
  low: null | number;
  /** Upper bound in the result unit. */
  high: null | number;
  /** The range as sent (e.g. 70-105, 70_105, <200). */
  text: null | string;
}

/** A report grouping results (OBR, DiagnosticReport). */
export interface DiagnosticReport {
  /** Canonical id of the report: stable across updates, corrections and replays. */
  id: string;
  /** What the source did to this record. */
  changeType: ChangeType;
  /** True when this record corrects an earlier one (HL7 OBX-11/OBR-25 = C, MDM replacement, FHIR status amended/corrected); it replaces the earlier record with the same id. */
  correction: boolean;
  /** Canonical id of the patient record this belongs to. */
  patientId: null | string;
  /** Where this record came from: source system, message id, mapping version and the source fields that fed it. */
  provenance: Provenance;
  /** Placer/filler numbers (OBR-2/3), DiagnosticReport.identifier. */
  identifiers: Array<Identifier>;
  /** FHIR report status: registered, partial, preliminary, final, amended, corrected, cancelled, unknown. */
  status: null | string;
  /** Universal service id (OBR-4), DiagnosticReport.code. */
  code: CodeableConcept;
  /** Observation/collection time (OBR-7), DiagnosticReport.effective[x]. */
  effective: null | ClinicalTime;
  /** Result status change time (OBR-22), DiagnosticReport.issued. */
  issued: null | ClinicalTime;
  /** Canonical ids of the observations in the report. */
  resultIds: Array<string>;
  /** Canonical id of the order. */
  orderId: null | string;
}

/** An order or a referral. */
export interface ServiceRequest {
  /** Canonical id of the order or referral: stable across updates, corrections and replays. */
  id: string;
  /** What the source did to this record. */
  changeType: ChangeType;
  /** True when this record corrects an earlier one (HL7 OBX-11/OBR-25 = C, MDM replacement, FHIR status amended/corrected); it replaces the earlier record with the same id. */
  correction: boolean;
  /** Canonical id of the patient record this belongs to. */
  patientId: null | string;
  /** Where this record came from: source system, message id, mapping version and the source fields that fed it. */
  provenance: Provenance;
  /** ORDER (ORM/OML/ORU OBR) or REFERRAL (REF/RF1). */
  category: ServiceRequestCategory;
  /** Placer/filler order numbers (ORC-2/3, OBR-2/3), referral ids (RF1-6). */
  identifiers: Array<Identifier>;
  /** FHIR request status: draft, active, on-hold, revoked, completed, entered-in-error, unknown. */
  status: null | string;
  /** FHIR request intent: order, original-order, filler-order, proposal, plan. */
  intent: null | string;
  /** HL7 order control code (ORC-1) when from HL7. */
  orderControl: null | string;
  /** What is requested (OBR-4, RF1-3 / ServiceRequest.code). */
  code: CodeableConcept;
  /** routine, urgent, asap, stat. */
  priority: null | string;
  /** When ordered (ORC-9, RF1-7, ServiceRequest.authoredOn). */
  authoredOn: null | ClinicalTime;
  /** When it should happen / was collected (OBR-7, ORC-15, TQ1-7, ServiceRequest.occurrence[x]). */
  occurrence: null | ClinicalTime;
  /** Ordering provider as id^family^given (ORC-12/OBR-16). */
  requester: null | string;
  /** Reasons (OBR-31, RF1-10, DG1 on referral, ServiceRequest.reasonCode). */
  reasons: Array<CodeableConcept>;
}

/** Order or referral. */
export type ServiceRequestCategory = 'ORDER' | 'REFERRAL';
export const ServiceRequestCategoryValues = ['ORDER', 'REFERRAL'] as const;

/** A medication order (RDE/RDS RXE/RXO, MedicationRequest). */
export interface MedicationRequest {
  /** Canonical id of the medication order: stable across updates, corrections and replays. */
  id: string;
  /** What the source did to this record. */
  changeType: ChangeType;
  /** True when this record corrects an earlier one (HL7 OBX-11/OBR-25 = C, MDM replacement, FHIR status amended/corrected); it replaces the earlier record with the same id. */
  correction: boolean;
  /** Canonical id of the patient record this belongs to. */
  patientId: null | string;
  /** Where this record came from: source system, message id, mapping version and the source fields that fed it. */
  provenance: Provenance;
  /** Placer/filler order numbers (ORC-2/3). */
  identifiers: Array<Identifier>;
  /** FHIR status: active, on-hold, cancelled, completed, stopped, draft, unknown. */
  status: null | string;
  /** FHIR intent (order, ...). */
  intent: null | string;
  /** Medication (RXE-2 / RXO-1, medicationCodeableConcept); RxNorm when known. */
  medication: CodeableConcept;
  /** Dose amount (RXE-3 with RXE-5 units, dosageInstruction.doseAndRate). */
  dose: null | Quantity;
  /** Route (RXR-1, dosageInstruction.route). */
  route: null | CodeableConcept;
  /** Frequency as sent (RXE-1 / TQ1-3 / dosageInstruction.text). */
  frequency: null | string;
  /** Amount to dispense (RXE-10/11, dispenseRequest.quantity). */
  dispenseQuantity: null | Quantity;
  /** When ordered (ORC-9, authoredOn). */
  authoredOn: null | ClinicalTime;
}

/** A medication given (RXA outside vaccination, RXD dispense, MedicationAdministration). */
export interface MedicationAdministration {
  /** Canonical id of the administration: stable across updates, corrections and replays. */
  id: string;
  /** What the source did to this record. */
  changeType: ChangeType;
  /** True when this record corrects an earlier one (HL7 OBX-11/OBR-25 = C, MDM replacement, FHIR status amended/corrected); it replaces the earlier record with the same id. */
  correction: boolean;
  /** Canonical id of the patient record this belongs to. */
  patientId: null | string;
  /** Where this record came from: source system, message id, mapping version and the source fields that fed it. */
  provenance: Provenance;
  /** FHIR status: completed, in-progress, not-done, entered-in-error, unknown. */
  status: null | string;
  /** Medication (RXA-5 / RXD-2, medicationCodeableConcept). */
  medication: CodeableConcept;
  /** Dose given (RXA-6/7, RXD-4/5, dosage.dose). */
  dose: null | Quantity;
  /** Route (RXR-1, dosage.route). */
  route: null | CodeableConcept;
  /** When given (RXA-3, RXD-3, effective[x]). */
  effective: null | ClinicalTime;
  /** Canonical id of the medication order when known. */
  orderId: null | string;
}

/** A vaccination (VXU RXA, Immunization). */
export interface Immunization {
  /** Canonical id of the immunization: stable across updates, corrections and replays. */
  id: string;
  /** What the source did to this record. */
  changeType: ChangeType;
  /** True when this record corrects an earlier one (HL7 OBX-11/OBR-25 = C, MDM replacement, FHIR status amended/corrected); it replaces the earlier record with the same id. */
  correction: boolean;
  /** Canonical id of the patient record this belongs to. */
  patientId: null | string;
  /** Where this record came from: source system, message id, mapping version and the source fields that fed it. */
  provenance: Provenance;
  /** FHIR status: completed, entered-in-error, not-done. */
  status: null | string;
  /** Vaccine (RXA-5, vaccineCode); CVX when known. */
  vaccine: CodeableConcept;
  /** When given (RXA-3, occurrenceDateTime). */
  occurrence: null | ClinicalTime;
  /** Dose (RXA-6/7, doseQuantity). */
  dose: null | Quantity;
  /** Lot number (RXA-15). */
  lotNumber: null | string;
  /** Manufacturer (RXA-17). */
  manufacturer: null | string;
  /** Route (RXR-1). */
  route: null | CodeableConcept;
  /** Site (RXR-2). */
  site: null | CodeableConcept;
}

/** A scheduled appointment (SIU SCH/AIS, Appointment). */
export interface Appointment {
  /** Canonical id of the appointment: stable across updates, corrections and replays. */
  id: string;
  /** What the source did to this record. */
  changeType: ChangeType;
  /** True when this record corrects an earlier one (HL7 OBX-11/OBR-25 = C, MDM replacement, FHIR status amended/corrected); it replaces the earlier record with the same id. */
  correction: boolean;
  /** Canonical id of the patient record this belongs to. */
  patientId: null | string;
  /** Where this record came from: source system, message id, mapping version and the source fields that fed it. */
  provenance: Provenance;
  /** Placer/filler appointment ids (SCH-1/2). */
  identifiers: Array<Identifier>;
  /** FHIR status: proposed, pending, booked, arrived, fulfilled, cancelled, noshow, entered-in-error. */
  status: null | string;
  /** Service (AIS-3 / Appointment.serviceType). */
  serviceType: null | CodeableConcept;
  /** Appointment type (SCH-8, appointmentType). */
  appointmentType: null | CodeableConcept;
  /** Event reason (SCH-6 / reasonCode). */
  reason: null | CodeableConcept;
  /** Start (AIS-4 / SCH-11.4 / TQ1-7, Appointment.start). */
  start: null | ClinicalTime;
  /** End (SCH-11.5 / TQ1-8, or start + AIS-7 duration, Appointment.end). */
  end: null | ClinicalTime;
  /** Duration in minutes (AIS-7/8, SCH-9/10, minutesDuration). */
  durationMinutes: null | number;
  /** Resources booked as id^name (AIP-3, AIL-3, participant.actor.display). */
  participants: Array<string>;
}

/** A diagnosis or problem (DG1, PRB, Condition). */
export interface Condition {
  /** Canonical id of the condition: stable across updates, corrections and replays. */
  id: string;
  /** What the source did to this record. */
  changeType: ChangeType;
  /** True when this record corrects an earlier one (HL7 OBX-11/OBR-25 = C, MDM replacement, FHIR status amended/corrected); it replaces the earlier record with the same id. */
  correction: boolean;
  /** Canonical id of the patient record this belongs to. */
  patientId: null | string;
  /** Where this record came from: source system, message id, mapping version and the source fields that fed it. */
  provenance: Provenance;
  /** Diagnosis / problem (DG1-3, PRB-3, Condition.code); ICD-10 or SNOMED CT when known. */
  code: CodeableConcept;
  /** active, recurrence, relapse, inactive, remission, resolved. */
  clinicalStatus: null | string;
  /** problem-list-item or encounter-diagnosis. */
  category: null | string;
  /** Onset (PRB-16, DG1-5, onsetDateTime). */
  onset: null | ClinicalTime;
  /** When recorded (PRB-2, recordedDate). */
  recorded: null | ClinicalTime;
  /** HL7 diagnosis type (DG1-6: A admitting, W working, F final). */
  diagnosisType: null | string;
}

/** An allergy or intolerance (AL1/IAM, AllergyIntolerance). */
export interface AllergyIntolerance {
  /** Canonical id of the allergy: stable across updates, corrections and replays. */
  id: string;
  /** What the source did to this record. */
  changeType: ChangeType;
  /** True when this record corrects an earlier one (HL7 OBX-11/OBR-25 = C, MDM replacement, FHIR status amended/corrected); it replaces the earlier record with the same id. */
  correction: boolean;
  /** Canonical id of the patient record this belongs to. */
  patientId: null | string;
  /** Where this record came from: source system, message id, mapping version and the source fields that fed it. */
  provenance: Provenance;
  /** Allergen (AL1-3, code). */
  code: CodeableConcept;
  /** food, medication, environment, biologic (from AL1-2). */
  category: null | string;
  /** low, high, unable-to-assess (from AL1-4 severity). */
  criticality: null | string;
  /** Severity as sent (AL1-4). */
  severity: null | string;
  /** Reactions (AL1-5, reaction.manifestation text). */
  reactions: Array<string>;
  /** Identification date (AL1-6, onsetDateTime). */
  onset: null | ClinicalTime;
}

/** A clinical document (MDM TXA/OBX, DocumentReference). */
export interface DocumentReference {
  /** Canonical id of the document: stable across updates, corrections and replays. */
  id: string;
  /** What the source did to this record. */
  changeType: ChangeType;
  /** True when this record corrects an earlier one (HL7 OBX-11/OBR-25 = C, MDM replacement, FHIR status amended/corrected); it replaces the earlier record with the same id. */
  correction: boolean;
  /** Canonical id of the patient record this belongs to. */
  patientId: null | string;
  /** Where this record came from: source system, message id, mapping version and the source fields that fed it. */
  provenance: Provenance;
  /** Unique document number (TXA-12), placer/filler numbers. */
  identifiers: Array<Identifier>;
  /** FHIR document status: current, superseded, entered-in-error. */
  status: null | string;
  /** Completion status: preliminary, final, amended, entered-in-error (TXA-17). */
  docStatus: null | string;
  /** Document type (TXA-2, type). */
  type: CodeableConcept;
  /** Activity/creation time (TXA-4, date). */
  date: null | ClinicalTime;
  /** Content type (TXA-3 / attachment.contentType). */
  contentType: null | string;
  /** Document text when sent inline (OBX-5 TX/FT/ST lines joined by newline). */
  text: null | string;
  /** Authors as id^family^given (TXA-9/10). */
  authors: Array<string>;
  /** Canonical id of the document this one replaces (TXA-13 parent document). */
  replacesId: null | string;
}

/** A procedure performed (PR1, Procedure). */
export interface Procedure {
  /** Canonical id (hash of the natural key). */
  id: string;
  /** What this message did to the record. */
  changeType: ChangeType;
  /** A correction of an earlier version. */
  correction: boolean;
  /** Canonical id of the patient. */
  patientId: null | string;
  /** Where the record came from, down to the source fields. */
  provenance: Provenance;
  /** Canonical id of the encounter it happened in. */
  encounterId: null | string;
  /** FHIR Procedure.status. */
  status: null | string;
  /** Procedure code (PR1-3, Procedure.code). */
  code: CodeableConcept;
  /** When it was performed (PR1-5, Procedure.performed). */
  performed: null | ClinicalTime;
  /** Minutes (PR1-7). */
  durationMinutes: null | number;
  /** Performers as id^family^given (PR1-8/PR1-12, ROL). */
  performers: Array<string>;
}

/** An insurance coverage (IN1, Coverage). */
export interface Coverage {
  /** Canonical id (hash of the natural key). */
  id: string;
  /** What this message did to the record. */
  changeType: ChangeType;
  /** A correction of an earlier version. */
  correction: boolean;
  /** Canonical id of the patient. */
  patientId: null | string;
  /** Where the record came from, down to the source fields. */
  provenance: Provenance;
  /** Policy/member numbers (IN1-36, IN1-49, IN2-8 Medicaid, IN2-6 Medicare). */
  identifiers: Array<Identifier>;
  /** FHIR Coverage.status. */
  status: null | string;
  /** Insurance plan (IN1-2, Coverage.class plan). */
  plan: null | CodeableConcept;
  /** Insurance company (IN1-3 id, else IN1-4 name; Coverage.payor). */
  payor: null | string;
  /** Group number (IN1-8). */
  groupNumber: null | string;
  /** Insured's relationship to the patient (IN1-17, Coverage.relationship). */
  subscriberRelationship: null | string;
  /** Plan effective (IN1-12) to expiration (IN1-13), Coverage.period. */
  period: Period;
  /** Coverage order (IN1-1 set id, Coverage.order). */
  order: null | number;
}

/** A local code the terminology maps could not translate, kept on the record and listed here for the terminology team. */
export interface UnmappedCode {
  /** Canonical record type holding the code. */
  recordType: string;
  /** Canonical id of that record. */
  recordId: string;
  /** Element that holds the code (e.g. Observation.code). */
  element: string;
  /** Local code system as sent (null when the source gave none). */
  system: null | string;
  /** The code as sent. */
  code: string;
  /** Display text as sent. */
  display: null | string;
  /** Why it is unmapped: NO_MAP_ENTRY, UNKNOWN_SYSTEM, NO_SYSTEM. */
  reason: string;
  /** Source field (e.g. OBX-3, Observation.code.coding[0]). */
  sourceField: null | string;
}

/** Something the mapper could not map faithfully; the rest of the message is still mapped. */
export interface MappingIssue {
  /** Stable issue code (e.g. TIME.UNREADABLE, UNIT.NOT_UCUM, SEGMENT.UNSUPPORTED, MESSAGE.UNPARSEABLE). */
  code: string;
  /** Explanation (never patient data). */
  message: string;
  /** Source field concerned. */
  sourceField: null | string;
}

/** A canonical event with its policy decision. Keyed by EPID. */
export interface RoutedEvent {
  /** Deterministic event id. */
  eventId: string;
  /** Id of the original message. */
  correlationId: string;
  /** Event id of the canonical event that caused this one. */
  causationId: string;
  /** Enterprise patient id. */
  epid: string;
  /** Urgency tier after policy (escalation only). */
  tier: Tier;
  /** Why and where the event is routed. */
  decision: PolicyDecision;
  /** The audience this routed view is for (one routed event per permitted audience); empty on events written before per-audience routing. */
  audience?: string;
  /** Purpose of use the decision was taken for (HL7 v3 PurposeOfUse: TREAT, HPAYMT, HOPERAT, HRESCH, PUBHLTH, BTG). */
  purposeOfUse?: string;
  /** Id of the explained decision record (GET /v1/decisions on policy); a revocation names it. */
  decisionId?: string;
  /** PERMIT: the audience's projection of the record; REDACT: a redacted view as the policy's obligations say. */
  effect?: RoutingEffect;
  /** Name of the field projection (minimum necessary) applied to `canonical`. */
  projection?: string;
  /** Security labels seen on the record (confidentiality N/R/V, sensitivity ETH, HIV, PSY, STD, SDV ...). */
  labels?: Array<string>;
  /** The record carries a critical value or alert (policy escalated it or scoring flagged it). */
  critical?: boolean;
  /** A HIPAA Safe Harbor de-identified view (clinical.deidentified.*): epid is a per-audience pseudonym. */
  deidentified?: boolean;
  /** The audience's projected view of the canonical event (minimum necessary): fields outside the projection are removed or emptied; never the full record unless the projection is full. */
  canonical: CanonicalEvent;
}

/** An explainable routing decision. */
export interface PolicyDecision {
  /** Version of the policy set that decided. */
  policyVersion: string;
  /** Rules that fired, in order. */
  ruleIds: Array<string>;
  /** Workflows that must act on the event. */
  workflows: Array<string>;
  /** Subscriber audiences that may receive the event. */
  audiences: Array<string>;
  /** Tier before any escalation. */
  originalTier: Tier;
  /** Human-readable explanation of the decision. */
  explanation: string;
}

export type RoutingEffect = 'PERMIT' | 'REDACT';
export const RoutingEffectValues = ['PERMIT', 'REDACT'] as const;

/** A change to a clinical work item, shaped like a FHIR R4 Task (status + businessStatus, owner, restriction.period end = dueAt, history reference, closed-loop acknowledgement facts). Keyed by EPID (the task id for work without a patient). */
export interface TaskEvent {
  /** Deterministic event id. */
  eventId: string;
  /** Id of the original message. */
  correlationId: string;
  /** Event id that caused this change. */
  causationId: string;
  /** Enterprise patient id. */
  epid: string;
  /** Urgency tier. */
  tier: Tier;
  /** Task id (deterministic from the routed event and workflow). */
  taskId: string;
  /** What happened to the task: CREATED, UPDATED (a transition, a correction, a merge), ESCALATED (an SLA rung fired: audiences = the rung's audience), ACKNOWLEDGED (closed-loop acknowledgement recorded), FEEDBACK (clinician feedback on a score/alert task), COMPLETED, CANCELLED. */
  change: TaskChange;
  /** Workflow the task belongs to. */
  workflow: string;
  /** FHIR Task.status after the change (draft, requested, received, accepted, rejected, ready, cancelled, in-progress, on-hold, failed, completed, entered-in-error). */
  status: string;
  /** Short description without PHI (e.g. 'Review ADT^A01'). */
  title: string;
  /** When the task is due (Task.restriction.period.end), from the workflow's SLA for the tier and the facility calendar. */
  dueAt: number;
  /** Who should receive this task event: the task's audiences, or for ESCALATED the escalation rung's audience(s) (e.g. critical-result-oncall, then supervisor). */
  audiences: Array<string>;
  /** Source message type. */
  messageType: string;
  /** Canonical resource type. */
  resourceType: string;
  /** Canonical record id. */
  canonicalId: string;
  /** When ingest received the original message. */
  receivedAt: number;
  /** Workflow state after the change (the workflow's own name for it). */
  state?: string;
  /** FHIR Task.businessStatus: the workflow's sub-state (e.g. awaiting-acknowledgement, scheduled, awaiting-missing-data). */
  businessStatus?: string;
  /** FHIR Task.priority (stat, asap, urgent, routine) from the tier. */
  priority?: string;
  /** FHIR Task.intent. */
  intent?: string;
  /** FHIR Task.owner: who claimed the task (token subject), when someone did. */
  owner?: null | string;
  /** Task version after the change (the ETag of GET /v1/tasks/{id}). */
  version?: number;
  /** Where the full transition history is (GET /v1/tasks/{id}): FHIR Task.relevantHistory. */
  historyRef?: string;
  /** Workflow state before the change (transitions). */
  fromState?: null | string;
  /** Name of the transition taken (claim, release, start, complete, cancel, hold, resume, ...). */
  transition?: null | string;
  /** Who made the change (token subject, or the system part that did). */
  actor?: null | string;
  /** Why (transition reason, correction note, escalation cause) without PHI. */
  reason?: null | string;
  /** ESCALATED: index of the ladder rung that fired (0 = first). */
  escalationRung?: null | number;
  /** ESCALATED: this was the last rung of the ladder (a failed handoff if nobody acts). */
  ladderExhausted?: boolean;
  /** The SLA due time passed before the task's SLA clock stopped. */
  breached?: boolean;
  /** UPDATED by a corrected source record (same canonical id). */
  correction?: boolean;
  /** ACKNOWLEDGED: the documented communication. */
  acknowledgement?: null | TaskAcknowledgement;
  /** FEEDBACK: the clinician's feedback. */
  feedback?: null | TaskFeedback;
  /** UPDATED by a merge or unmerge: the EPID the task followed from. */
  previousEpid?: null | string;
  /** Idempotency key of the task: workflow + trigger (canonical record, review item, grant, dead letter). */
  triggerKey?: string;
  /** When the change happened (Task.lastModified). */
  changedAt?: null | number;
}

export type TaskChange = 'CREATED' | 'UPDATED' | 'ESCALATED' | 'COMPLETED' | 'CANCELLED' | 'ACKNOWLEDGED' | 'FEEDBACK';
export const TaskChangeValues = ['CREATED', 'UPDATED', 'ESCALATED', 'COMPLETED', 'CANCELLED', 'ACKNOWLEDGED', 'FEEDBACK'] as const;

/** Closed-loop communication of a critical result: the six facts the ACR asks to document. */
export interface TaskAcknowledgement {
  /** The finding communicated (test and value, no patient identifiers). */
  finding: string;
  /** When the finding was identified (result issued / recorded). */
  identifiedAt: number;
  /** Who communicated it. */
  communicatedBy: string;
  /** Who received it. */
  receivedBy: string;
  /** When it was received. */
  receivedAt: number;
  /** How (phone, in-person, secure-message, page, ehr-inbox...). */
  method: string;
  /** The receiver read the result back. */
  readBack: boolean;
}

/** Clinician feedback on a task raised by a score or an alert, for threshold tuning. */
export interface TaskFeedback {
  /** What the clinician did. */
  action: TaskFeedbackAction;
  /** Why (a coded reason or short text, without PHI). */
  reason: string;
  /** Who gave the feedback. */
  actor: string;
  /** When. */
  at: number;
}

export type TaskFeedbackAction = 'ACKNOWLEDGE' | 'DISMISS' | 'DEFER' | 'ESCALATE' | 'OTHER';
export const TaskFeedbackActionValues = ['ACKNOWLEDGE', 'DISMISS', 'DEFER', 'ESCALATE', 'OTHER'] as const;

/** A webhook or FHIR notification delivery outcome: delivered, dead (retries exhausted or refused), cancelled (the decision behind it was revoked, or aborted by the subscriber), or the endpoint disabled. Keyed by subscription id; no readable PHI. */
export interface DeliveryEvent {
  /** Deterministic event id. */
  eventId: string;
  /** Id of the original message. */
  correlationId: string;
  /** Delivery id (idempotency key sent to the subscriber). */
  deliveryId: string;
  /** Subscription delivered to. */
  subscriptionId: string;
  /** Event id that was delivered. */
  sourceEventId: string;
  /** Outcome. */
  status: DeliveryStatus;
  /** Attempts made. */
  attempts: number;
  /** Subscriber's HTTP status, if any. */
  httpStatus?: null | number;
  /** When the outcome was recorded. */
  at: number;
  /** Audience the subscription is bound to. */
  audience?: null | string;
  /** Purpose of use the subscription is bound to. */
  purposeOfUse?: null | string;
  /** Policy decision the delivered view was permitted under (routed views). */
  decisionId?: null | string;
  /** Enterprise patient id concerned, when the delivery is about a patient. */
  epid?: null | string;
  /** Urgency tier of the delivered event (stat, urgent, routine, bulk). */
  tier?: null | string;
  /** Type of the delivered event (e.g. routed.observation, task.created). */
  sourceEventType?: null | string;
  /** webhook (Standard Webhooks) or fhir-rest-hook. */
  channel?: null | string;
  /** Why it ended so (e.g. DECISION_REVOKED, RETRIES_EXHAUSTED, HTTP_410, ABORTED_BY_RECEIVER, FAILING_TOO_LONG), without PHI. */
  reason?: null | string;
}

/** DELIVERED, DEAD, CANCELLED, ENDPOINT_DISABLED (FAILED is not emitted; readers that do not know a symbol read FAILED). */
export type DeliveryStatus = 'DELIVERED' | 'FAILED' | 'DEAD' | 'CANCELLED' | 'ENDPOINT_DISABLED';
export const DeliveryStatusValues = ['DELIVERED', 'FAILED', 'DEAD', 'CANCELLED', 'ENDPOINT_DISABLED'] as const;

/** A change in the master patient index. Keyed by EPID. */
export interface IdentityEvent {
  /** Deterministic event id. */
  eventId: string;
  /** Id of the original message. */
  correlationId: string;
  /** What changed. REVIEW_REQUIRED: a review item was opened (reviewItemId); REVIEW_RESOLVED: it was decided (reviewItemId, resolution). */
  type: IdentityChange;
  /** The (surviving) enterprise patient id. */
  epid: string;
  /** The other person in a merge or unmerge. */
  otherEpid?: null | string;
  /** Opaque source patient key of the record involved. */
  recordKey: string;
  /** Match method. */
  method: string;
  /** Match score. */
  score?: null | number;
  /** Review item concerned (REVIEW_REQUIRED, REVIEW_RESOLVED). */
  reviewItemId?: null | string;
  /** How a review item was decided: linked, kept-apart, new-person, dismissed (REVIEW_RESOLVED). */
  resolution?: null | string;
  /** When it changed. */
  at: number;
}

export type IdentityChange = 'PERSON_CREATED' | 'RECORD_LINKED' | 'PERSONS_MERGED' | 'PERSONS_UNMERGED' | 'REVIEW_REQUIRED' | 'REVIEW_RESOLVED';
export const IdentityChangeValues = ['PERSON_CREATED', 'RECORD_LINKED', 'PERSONS_MERGED', 'PERSONS_UNMERGED', 'REVIEW_REQUIRED', 'REVIEW_RESOLVED'] as const;

/** An event a service could not process: the original bytes and headers with the error. Keyed by the original key. */
export interface DeadLetter {
  /** Id of this dead letter. */
  eventId: string;
  /** Service that failed. */
  service: string;
  /** Consumer group that failed. */
  consumerGroup: string;
  /** Original topic. */
  topic: string;
  /** Original partition. */
  partition: number;
  /** Original offset. */
  offset: number;
  /** Original key bytes. */
  key?: null | Buffer;
  /** Original value bytes. */
  value?: null | Buffer;
  /** Original headers. */
  headers: Record<string, string>;
  /** Stable error code. */
  errorCode: string;
  /** Error message (no PHI). */
  errorMessage: string;
  /** When it was dead-lettered. */
  failedAt: number;
  /** Processing attempts made. */
  attempts: number;
}

/** Something the platform did to the flow of events, for operators and work queues: an event dead-lettered, a dead letter redriven (or a redrive that failed), a consumer replayed. Keyed by the dead letter id or the consumer group; carries no PHI. */
export interface OperationsEvent {
  /** Deterministic event id. */
  eventId: string;
  /** Id of the original message the affected event belongs to (or of the operator command). */
  correlationId: string;
  /** What happened. */
  kind: OperationsEventKind;
  /** Service where it happened. */
  service: string;
  /** Consumer group concerned. */
  consumerGroup: string;
  /** Dead letter concerned (DEAD_LETTERED, REDRIVEN, REDRIVE_FAILED). */
  deadLetterId?: null | string;
  /** Topic of the affected event. */
  topic?: null | string;
  /** Partition of the affected event. */
  partition?: null | number;
  /** Offset of the affected event. */
  offset?: null | number;
  /** Event id of the affected event. */
  sourceEventId?: null | string;
  /** Stable error code (DEAD_LETTERED, REDRIVE_FAILED). */
  errorCode?: null | string;
  /** Error message, without PHI. */
  errorMessage?: null | string;
  /** Operator who issued the command (REDRIVEN, REPLAYED). */
  actor?: null | string;
  /** When it happened. */
  at: number;
}

export type OperationsEventKind = 'DEAD_LETTERED' | 'REDRIVEN' | 'REDRIVE_FAILED' | 'REPLAYED' | 'OTHER';
export const OperationsEventKindValues = ['DEAD_LETTERED', 'REDRIVEN', 'REDRIVE_FAILED', 'REPLAYED', 'OTHER'] as const;

/** A change in what policy permits: a consent recorded, revoked or applied, a break-glass grant opened or expired, a policy version activated. Keyed by EPID (or the policy version for version changes); no readable PHI. */
export interface PolicyEvent {
  /** Deterministic event id. */
  eventId: string;
  /** Id of the request or event that caused it. */
  correlationId: string;
  /** What changed. */
  kind: PolicyEventKind;
  /** Enterprise patient id concerned, when the change is about a patient. */
  epid?: null | string;
  /** Id of the consent, grant or policy version that changed. */
  subjectId: string;
  /** Audience concerned, when one is. */
  audience?: null | string;
  /** Who made the change (token subject), when a person did. */
  actor?: null | string;
  /** Reason given (break-glass) or explanation, without PHI. */
  reason?: null | string;
  /** When a grant expires. */
  expiresAt?: null | number;
  /** Further machine-readable details (ids, versions). */
  details?: Record<string, string>;
  /** When it happened. */
  at: number;
}

export type PolicyEventKind = 'CONSENT_RECORDED' | 'CONSENT_REVOKED' | 'CONSENT_APPLIED' | 'BREAK_GLASS_GRANTED' | 'BREAK_GLASS_EXPIRED' | 'POLICY_ACTIVATED' | 'DECISION_REVOKED' | 'OTHER';
export const PolicyEventKindValues = ['CONSENT_RECORDED', 'CONSENT_REVOKED', 'CONSENT_APPLIED', 'BREAK_GLASS_GRANTED', 'BREAK_GLASS_EXPIRED', 'POLICY_ACTIVATED', 'DECISION_REVOKED', 'OTHER'] as const;

/** One explained policy decision per canonical event and audience, for audit (clinical.policy.decisions), or a shadow-mode difference between the active and a candidate policy version (shadow = true). Keyed by EPID; no readable PHI. */
export interface PolicyDecisionEvent {
  /** Deterministic event id. */
  eventId: string;
  /** Id of the original message. */
  correlationId: string;
  /** Id of the explained decision (GET /v1/decisions on policy). */
  decisionId: string;
  /** The canonical event decided on. */
  canonicalEventId: string;
  /** Enterprise patient id. */
  epid: string;
  /** Audience the decision is for. */
  audience: string;
  /** PERMIT, DENY or REDACT (for a shadow difference: the candidate's effect). */
  effect: string;
  /** Obligations on the release (project:<projection>, redact:<label>, deidentify:safe-harbor). */
  obligations?: Array<string>;
  /** Policy version that decided (for a shadow difference: the candidate version). */
  policyVersion: string;
  /** Determining access rule ids. */
  ruleIds?: Array<string>;
  /** Routing rules that fired. */
  routingRuleIds?: Array<string>;
  /** Consent the decision was based on, when one was. */
  consentId?: null | string;
  /** FHIRPath of the deciding provision. */
  consentProvision?: null | string;
  /** CONSENT_PERMIT, CONSENT_DENY or NO_CONSENT. */
  consentDecision?: string;
  /** Security labels seen on the record. */
  labels?: Array<string>;
  /** Labels whose data were withheld from the audience. */
  withheldLabels?: Array<string>;
  /** Purpose of use (BTG under a break-glass grant). */
  purposeOfUse: string;
  /** Break-glass grant the decision was taken under. */
  breakGlassGrantId?: null | string;
  /** Projection (minimum necessary) of the released view. */
  projection: string;
  /** Tier after escalation. */
  tier: string;
  /** The routed (or de-identified) event that carried the view, when one was published. */
  routedEventId?: null | string;
  /** The decision in words. */
  reason: string;
  /** A shadow-mode difference (no effect): the candidate version decided differently from the active one. */
  shadow?: boolean;
  /** For a shadow difference: the active version's effect. */
  activeEffect?: null | string;
  /** When it was decided. */
  at: number;
}

/** Value type of each event schema in the catalog, by schema name. */
export interface EventSchemaTypes {
  IngestedEvent: IngestedEvent;
  IdentifiedEvent: IdentifiedEvent;
  CanonicalEvent: CanonicalEvent;
  RoutedEvent: RoutedEvent;
  TaskEvent: TaskEvent;
  DeliveryEvent: DeliveryEvent;
  IdentityEvent: IdentityEvent;
  DeadLetter: DeadLetter;
  OperationsEvent: OperationsEvent;
  PolicyEvent: PolicyEvent;
  PolicyDecisionEvent: PolicyDecisionEvent;
}
