import type {
  Address, AllergyIntolerance, Appointment, ClinicalTime, CodeableConcept, Condition, Coverage, DiagnosticReport, DocumentReference, Encounter,
  HumanName, Identifier, Immunization, MedicationAdministration, MedicationRequest, Observation, Patient, Procedure, Quantity, ServiceRequest,
} from '@clinmesh/schemas';
import { CanonicalRecordType } from '../model/canonical-records';

/**
 * A canonical record rendered as a FHIR R4 resource whose id is the canonical
 * id (what id-only notifications carry), references to other canonical
 * records as `<Type>/<canonical id>`. Pure. Mapping this resource back with
 * `mapFhir` yields the same canonical facts (tested).
 */
type Json = Record<string, unknown>;

const UCUM = 'http://unitsofmeasure.org';
/** The HL7 v2 value type an observation was sent with (OBX-2: NM, CWE, RP, ED...). */
export const V2_VALUE_TYPE = 'urn:clinmesh:extension:v2-value-type';
/** Code systems sent by name, not URI (local tables, HL7 0396 names without a URI): kept under this prefix. */
export const LOCAL_SYSTEM_PREFIX = 'urn:clinmesh:codesystem:';
const PROVENANCE_TAG = 'urn:clinmesh:codesystem:provenance';

export function renderFhir(type: CanonicalRecordType, record: { id: string; provenance: { sourceSystem: string; messageId: string; mappingVersion: string; sourceFields: string[] } }, version: number | null = null): Json {
  const meta: Json = {
    ...(version !== null ? { versionId: String(version) } : {}),
    source: `urn:clinmesh:source:${encodeURIComponent(record.provenance.sourceSystem)}#${encodeURIComponent(record.provenance.messageId)}`,
    tag: [{ system: PROVENANCE_TAG, code: record.provenance.mappingVersion }],
  };
  const body = RENDER[type](record as never);
  return clean({ resourceType: type, id: record.id, meta, ...body });
}

const RENDER: { [K in CanonicalRecordType]: (r: any) => Json } = {
  Patient: (r: Patient) => ({
    identifier: r.identifiers.map(identifier),
    name: r.names.map(name),
    gender: r.gender,
    birthDate: r.birthDate,
    address: r.addresses.map(address),
    telecom: r.telecoms.map((t) => ({ system: t.system, value: t.value, use: t.use })),
    ...(r.deceasedAt ? { deceasedDateTime: time(r.deceasedAt) } : r.deceased !== null ? { deceasedBoolean: r.deceased } : {}),
    maritalStatus: cc(r.maritalStatus),
    link: r.mergedIdentifiers.map((i) => ({ type: 'replaces', other: { identifier: identifier(i) } })),
  }),
  Encounter: (r: Encounter) => ({
    identifier: r.identifiers.map(identifier),
    status: r.status ?? 'unknown',
    class: r.class ? { system: systemUri(r.class.system), code: r.class.code, display: r.class.display } : { system: 'http://terminology.hl7.org/CodeSystem/v3-NullFlavor', code: 'UNK' },
    type: r.type ? [cc(r.type)] : [],
    subject: ref('Patient', r.patientId),
    period: period(r.period.start, r.period.end),
    location: r.location ? [{ location: { display: r.location } }] : [],
    serviceType: r.hospitalService ? { text: r.hospitalService } : null,
    hospitalization: r.dischargeDisposition ? { dischargeDisposition: cc(r.dischargeDisposition) } : null,
    extension: r.expectedPeriod ? [{ url: 'urn:clinmesh:extension:encounter-expected-period', valuePeriod: period(r.expectedPeriod.start, r.expectedPeriod.end) }] : [],
  }),
  Observation: (r: Observation) => ({
    extension: r.valueType ? [{ url: V2_VALUE_TYPE, valueCode: r.valueType }] : [],
    status: r.status ?? 'unknown',
    code: requiredCc(r.code),
    subject: ref('Patient', r.patientId),
    // R4 reference targets: an event it is part of (partOf), the medication order it concerns (basedOn), the document it comes from (derivedFrom).
    basedOn: [r.orderId ? ref('ServiceRequest', r.orderId) : null, r.partOfType === 'MedicationRequest' ? ref('MedicationRequest', r.partOfId) : null],
    partOf: r.partOfId && r.partOfType && !['MedicationRequest', 'DocumentReference'].includes(r.partOfType) ? [ref(r.partOfType, r.partOfId)] : [],
    derivedFrom: r.partOfType === 'DocumentReference' ? [ref('DocumentReference', r.partOfId)] : [],
    effectiveDateTime: time(r.effective),
    issued: r.issued?.instant != null ? new Date(r.issued.instant).toISOString() : null,
    ...(r.valueQuantity ? { valueQuantity: quantity(r.valueQuantity) }
      : r.valueCode ? { valueCodeableConcept: cc(r.valueCode) }
        : r.valueTime ? { valueDateTime: time(r.valueTime) }
          : r.valueString !== null ? { valueString: r.valueString } : {}),
    interpretation: r.interpretation.length ? [{ coding: r.interpretation.map((c) => ({ system: systemUri(c.system), code: c.code, display: c.display })) }] : [],
    referenceRange: r.referenceRange ? [{ low: r.referenceRange.low !== null ? { value: r.referenceRange.low } : null, high: r.referenceRange.high !== null ? { value: r.referenceRange.high } : null, text: r.referenceRange.text }] : [],
  }),
  DiagnosticReport: (r: DiagnosticReport) => ({
    identifier: r.identifiers.map(identifier),
    status: r.status ?? 'unknown',
    code: requiredCc(r.code),
    subject: ref('Patient', r.patientId),
    basedOn: r.orderId ? [ref('ServiceRequest', r.orderId)] : [],
    effectiveDateTime: time(r.effective),
    issued: r.issued?.instant != null ? new Date(r.issued.instant).toISOString() : null,
    result: r.resultIds.map((id) => ref('Observation', id)),
  }),
  ServiceRequest: (r: ServiceRequest) => ({
    identifier: r.identifiers.map(identifier),
    status: r.status ?? 'unknown',
    intent: r.category === 'REFERRAL' ? 'proposal' : r.intent ?? 'order',
    category: r.category === 'REFERRAL' ? [{ coding: [{ system: 'http://snomed.info/sct', code: '3457005', display: 'Patient referral' }] }] : [],
    code: cc(r.code),
    priority: r.priority,
    subject: ref('Patient', r.patientId),
    authoredOn: time(r.authoredOn),
    occurrenceDateTime: time(r.occurrence),
    requester: r.requester ? { display: r.requester } : null,
    reasonCode: r.reasons.map(cc),
  }),
  MedicationRequest: (r: MedicationRequest) => ({
    identifier: r.identifiers.map(identifier),
    status: r.status ?? 'unknown',
    intent: r.intent ?? 'order',
    medicationCodeableConcept: requiredCc(r.medication),
    subject: ref('Patient', r.patientId),
    authoredOn: time(r.authoredOn),
    dosageInstruction: r.dose || r.route || r.frequency ? [{ text: r.frequency, route: cc(r.route), doseAndRate: r.dose ? [{ doseQuantity: quantity(r.dose) }] : [] }] : [],
    dispenseRequest: r.dispenseQuantity ? { quantity: quantity(r.dispenseQuantity) } : null,
  }),
  MedicationAdministration: (r: MedicationAdministration) => ({
    status: r.status ?? 'unknown',
    medicationCodeableConcept: requiredCc(r.medication),
    subject: ref('Patient', r.patientId),
    effectiveDateTime: time(r.effective),
    request: r.orderId ? ref('MedicationRequest', r.orderId) : null,
    dosage: r.dose || r.route ? { dose: r.dose ? quantity(r.dose) : null, route: cc(r.route) } : null,
  }),
  Immunization: (r: Immunization) => ({
    status: r.status ?? 'completed',
    vaccineCode: requiredCc(r.vaccine),
    patient: ref('Patient', r.patientId),
    occurrenceDateTime: time(r.occurrence),
    lotNumber: r.lotNumber,
    manufacturer: r.manufacturer ? { display: r.manufacturer } : null,
    route: cc(r.route),
    site: cc(r.site),
    doseQuantity: r.dose ? quantity(r.dose) : null,
  }),
  Appointment: (r: Appointment) => ({
    identifier: r.identifiers.map(identifier),
    status: r.status ?? 'booked',
    serviceType: r.serviceType ? [cc(r.serviceType)] : [],
    appointmentType: cc(r.appointmentType),
    reasonCode: r.reason ? [cc(r.reason)] : [],
    start: instant(r.start),
    end: instant(r.end),
    minutesDuration: r.durationMinutes,
    participant: [
      ...(r.patientId ? [{ actor: ref('Patient', r.patientId), status: 'accepted' }] : []),
      ...r.participants.map((p) => ({ actor: { display: p }, status: 'accepted' })),
    ],
  }),
  Condition: (r: Condition) => ({
    code: cc(r.code),
    subject: ref('Patient', r.patientId),
    clinicalStatus: r.clinicalStatus ? { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: r.clinicalStatus }] } : null,
    category: r.category ? [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: r.category }] }] : [],
    onsetDateTime: time(r.onset),
    recordedDate: time(r.recorded),
  }),
  AllergyIntolerance: (r: AllergyIntolerance) => ({
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: r.changeType === 'CANCEL' ? 'inactive' : 'active' }] },
    code: cc(r.code),
    patient: ref('Patient', r.patientId),
    category: r.category ? [r.category] : [],
    criticality: r.criticality,
    onsetDateTime: time(r.onset),
    reaction: r.reactions.length || r.severity ? [{ manifestation: r.reactions.map((t) => ({ text: t })), severity: FHIR_SEVERITY[r.severity ?? ''] ?? null }] : [],
  }),
  DocumentReference: (r: DocumentReference) => {
    const [master, ...rest] = r.identifiers;
    return {
      masterIdentifier: master ? identifier(master) : null,
      identifier: rest.map(identifier),
      status: r.status ?? 'current',
      docStatus: r.docStatus,
      type: cc(r.type),
      subject: ref('Patient', r.patientId),
      date: r.date?.instant != null ? new Date(r.date.instant).toISOString() : null,
      author: r.authors.map((a) => ({ display: a })),
      relatesTo: r.replacesId ? [{ code: 'replaces', target: ref('DocumentReference', r.replacesId) }] : [],
      content: [{ attachment: { contentType: r.text !== null ? 'text/plain' : r.contentType ?? 'application/octet-stream', ...(r.text !== null ? { data: Buffer.from(r.text, 'utf8').toString('base64') } : {}) } }],
    };
  },
  Procedure: (r: Procedure) => ({
    status: r.status ?? 'unknown',
    code: cc(r.code),
    subject: ref('Patient', r.patientId),
    encounter: r.encounterId ? ref('Encounter', r.encounterId) : null,
    performedDateTime: time(r.performed),
    performer: r.performers.map((p) => ({ actor: { display: p } })),
  }),
  Coverage: (r: Coverage) => ({
    identifier: r.identifiers.map(identifier),
    status: r.status ?? 'active',
    beneficiary: ref('Patient', r.patientId),
    payor: [r.payor ? { display: r.payor } : { display: 'unknown' }],
    relationship: r.subscriberRelationship ? { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0063', code: r.subscriberRelationship }] } : null,
    period: period(r.period.start, r.period.end),
    order: r.order,
    class: [
      ...(r.plan?.codings[0] ? [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/coverage-class', code: 'plan' }] }, value: r.plan.codings[0].code, name: r.plan.text ?? r.plan.codings[0].display }] : []),
      ...(r.groupNumber ? [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/coverage-class', code: 'group' }] }, value: r.groupNumber }] : []),
    ],
  }),
};

const FHIR_SEVERITY: Record<string, string> = { SV: 'severe', MO: 'moderate', MI: 'mild' };

function ref(type: string, id: string | null | undefined): Json | null {
  return id ? { reference: `${type}/${id}` } : null;
}

function identifier(i: Identifier): Json {
  const uri = !!i.system && /^(urn:|https?:)/.test(i.system);
  return {
    system: uri ? i.system : undefined, value: i.value,
    type: i.type ? { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: i.type }] } : undefined,
    assigner: i.system && !uri ? { display: i.system } : undefined,
  };
}

function name(n: HumanName): Json {
  return { use: n.use, family: n.family, given: n.given, prefix: n.prefix, suffix: n.suffix };
}

function address(a: Address): Json {
  return { use: a.use, line: a.lines, city: a.city, state: a.state, postalCode: a.postalCode, country: a.country };
}

function cc(c: CodeableConcept | null | undefined): Json | null {
  if (!c || (!c.codings.length && !c.text)) return null;
  return { coding: c.codings.map((x) => ({ system: systemUri(x.system), code: x.code, display: x.display })), text: c.text };
}

/** A CodeableConcept FHIR requires: when the source sent none, the data-absent reason says so. */
function requiredCc(c: CodeableConcept | null | undefined): Json {
  return cc(c) ?? { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason', code: 'unknown', display: 'Unknown' }], text: 'not sent by the source' };
}

function systemUri(system: string | null): string | null {
  return !system ? null : /^(urn:|https?:)/.test(system) ? system : `${LOCAL_SYSTEM_PREFIX}${encodeURIComponent(system)}`;
}

function quantity(q: Quantity): Json {
  return { value: q.value, comparator: q.comparator, unit: q.unit, ...(q.ucum ? { system: UCUM, code: q.ucum } : {}) };
}

/** FHIR dateTime: the instant (UTC) when known; a date when only the calendar date is; else the date part as sent. */
function time(t: ClinicalTime | null | undefined): string | null {
  if (!t) return null;
  if (t.date && ['YEAR', 'MONTH', 'DAY'].includes(t.precision)) return t.date;
  if (t.instant !== null) return new Date(t.instant).toISOString();
  return t.date ?? (/^\d{8}/.test(t.original) ? `${t.original.slice(0, 4)}-${t.original.slice(4, 6)}-${t.original.slice(6, 8)}` : null);
}

function instant(t: ClinicalTime | null | undefined): string | null {
  return t?.instant != null ? new Date(t.instant).toISOString() : null;
}

function period(start: ClinicalTime | null, end: ClinicalTime | null): Json | null {
  return start || end ? { start: time(start), end: time(end) } : null;
}

/** Drops null/undefined values and empty arrays/objects (FHIR forbids empty elements). */
function clean<T>(v: T): T {
  if (Array.isArray(v)) return v.map(clean).filter((x) => !isEmpty(x)) as T;
  if (v && typeof v === 'object') {
    const out: Json = {};
    for (const [k, x] of Object.entries(v as Json)) {
      const c = clean(x);
      if (!isEmpty(c)) out[k] = c;
    }
    return out as T;
  }
  return v;
}

function isEmpty(x: unknown): boolean {
  return x === null || x === undefined || x === '' || (Array.isArray(x) && x.length === 0) || (typeof x === 'object' && !Array.isArray(x) && Object.keys(x as object).length === 0);
}
