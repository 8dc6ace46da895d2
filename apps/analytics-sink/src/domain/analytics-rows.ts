import type {
  Appointment, CanonicalEvent, ClinicalTime, CodeableConcept, Coding, DiagnosticReport, Encounter, Immunization, MedicationAdministration,
  MedicationRequest, Observation, Patient, Quantity, ServiceRequest,
} from '@clinmesh/schemas';

/** The relational tables analysts query (schema `analytics`), one per canonical record family. */
export const ANALYTICS_TABLES = ['patients', 'encounters', 'observations', 'diagnostic_reports', 'orders', 'appointments', 'medications', 'immunizations'] as const;
export type AnalyticsTable = (typeof ANALYTICS_TABLES)[number];

export type Cell = string | number | boolean | null | string[];

/**
 * One version of one canonical record as a table row. `columns` are the table's own columns
 * (names fixed in ANALYTICS_COLUMNS); the common ones (canonical id, EPID, event, times,
 * correction, the full record as JSON) are fields here.
 */
export interface AnalyticsRow {
  table: AnalyticsTable;
  canonicalId: string;
  /** The EPID the event carried (re-pointed to the survivor when persons merge). */
  epid: string;
  eventId: string;
  tier: string;
  changeType: string;
  correction: boolean;
  /** When the source recorded this version (epoch ms): an older version never replaces a newer one. */
  recordedAt: number;
  sourceSystem: string;
  columns: Record<string, Cell>;
  record: unknown;
}

/** Each table's own columns, in order (the migration creates exactly these). */
export const ANALYTICS_COLUMNS: Readonly<Record<AnalyticsTable, readonly string[]>> = {
  patients: ['family_name', 'given_names', 'birth_date', 'gender', 'deceased', 'deceased_at', 'identifiers'],
  encounters: ['patient_id', 'status', 'class_code', 'type_code', 'type_text', 'start_at', 'end_at', 'location', 'hospital_service'],
  observations: [
    'patient_id', 'report_id', 'order_id', 'status', 'loinc_code', 'code_system', 'code', 'code_display', 'value_type', 'value_num', 'value_comparator',
    'unit', 'ucum_unit', 'value_text', 'value_code', 'value_code_system', 'reference_range', 'interpretation', 'effective_at', 'effective_original', 'issued_at', 'sub_id',
  ],
  diagnostic_reports: ['patient_id', 'order_id', 'status', 'code_system', 'code', 'code_display', 'effective_at', 'issued_at', 'result_ids'],
  orders: ['patient_id', 'category', 'status', 'intent', 'order_control', 'code_system', 'code', 'code_display', 'priority', 'authored_at', 'occurrence_at', 'requester'],
  appointments: ['patient_id', 'status', 'service_type', 'appointment_type', 'reason', 'start_at', 'end_at', 'duration_minutes', 'participants'],
  medications: ['patient_id', 'kind', 'status', 'code_system', 'code', 'code_display', 'dose_value', 'dose_unit', 'route', 'frequency', 'at', 'order_id'],
  immunizations: ['patient_id', 'status', 'code_system', 'code', 'code_display', 'occurrence_at', 'dose_value', 'dose_unit', 'lot_number', 'manufacturer', 'route', 'site'],
};

export const LOINC = 'http://loinc.org';

/** The rows of every record family a canonical event carries (pure). */
export function analyticsRowsOf(event: CanonicalEvent): AnalyticsRow[] {
  const r = event.records;
  if (!r) return [];
  const row = (table: AnalyticsTable, record: { id: string; changeType: string; correction: boolean; provenance: { sourceSystem: string } }, columns: Record<string, Cell>): AnalyticsRow => ({
    table, canonicalId: record.id, epid: event.epid, eventId: event.eventId, tier: event.tier, changeType: record.changeType, correction: record.correction,
    recordedAt: event.recordedAt, sourceSystem: record.provenance?.sourceSystem ?? event.source?.system ?? '', columns, record,
  });
  return [
    ...(r.patients ?? []).map((p) => row('patients', p, patientColumns(p))),
    ...(r.encounters ?? []).map((e) => row('encounters', e, encounterColumns(e))),
    ...(r.observations ?? []).map((o) => row('observations', o, observationColumns(o))),
    ...(r.diagnosticReports ?? []).map((d) => row('diagnostic_reports', d, reportColumns(d))),
    ...(r.serviceRequests ?? []).map((s) => row('orders', s, orderColumns(s))),
    ...(r.appointments ?? []).map((a) => row('appointments', a, appointmentColumns(a))),
    ...(r.medicationRequests ?? []).map((m) => row('medications', m, medicationRequestColumns(m))),
    ...(r.medicationAdministrations ?? []).map((m) => row('medications', m, medicationAdministrationColumns(m))),
    ...(r.immunizations ?? []).map((i) => row('immunizations', i, immunizationColumns(i))),
  ];
}

/** The UTC instant of a clinical time as ISO 8601, or null (date-only or unreadable values). */
export function utc(t: ClinicalTime | null | undefined): string | null {
  return t?.instant == null ? null : new Date(t.instant).toISOString();
}

/** The first standard or mapped coding (normalization puts them first), else the first coding. */
export function primaryCoding(c: CodeableConcept | null | undefined): Coding | null {
  if (!c?.codings?.length) return null;
  return c.codings.find((x) => !x.unmapped) ?? c.codings[0];
}

function codingIn(c: CodeableConcept | null | undefined, system: string): Coding | null {
  return c?.codings?.find((x) => x.system === system) ?? null;
}

function conceptText(c: CodeableConcept | null | undefined): string | null {
  return c ? c.text ?? primaryCoding(c)?.display ?? primaryCoding(c)?.code ?? null : null;
}

function codeColumns(c: CodeableConcept | null | undefined): { code_system: string | null; code: string | null; code_display: string | null } {
  const p = primaryCoding(c);
  return { code_system: p?.system ?? null, code: p?.code ?? null, code_display: p?.display ?? c?.text ?? null };
}

function quantity(q: Quantity | null | undefined): { value: number | null; unit: string | null } {
  return { value: q?.value ?? null, unit: q?.ucum ?? q?.unit ?? null };
}

function patientColumns(p: Patient): Record<string, Cell> {
  const name = p.names?.find((n) => n.use === 'official') ?? p.names?.[0];
  return {
    family_name: name?.family ?? null,
    given_names: name?.given?.join(' ') || null,
    birth_date: p.birthDate,
    gender: p.gender,
    deceased: p.deceased,
    deceased_at: utc(p.deceasedAt),
    identifiers: (p.identifiers ?? []).map((i) => `${i.type ?? ''}|${i.system ?? ''}|${i.value}`),
  };
}

function encounterColumns(e: Encounter): Record<string, Cell> {
  const type = primaryCoding(e.type);
  return {
    patient_id: e.patientId, status: e.status, class_code: e.class?.code ?? null, type_code: type?.code ?? null, type_text: conceptText(e.type),
    start_at: utc(e.period?.start), end_at: utc(e.period?.end), location: e.location, hospital_service: e.hospitalService,
  };
}

function observationColumns(o: Observation): Record<string, Cell> {
  const code = primaryCoding(o.code);
  const value = primaryCoding(o.valueCode);
  const range = o.referenceRange;
  return {
    patient_id: o.patientId,
    report_id: o.reportId,
    order_id: o.orderId,
    status: o.status,
    loinc_code: codingIn(o.code, LOINC)?.code ?? null,
    code_system: code?.system ?? null,
    code: code?.code ?? null,
    code_display: code?.display ?? o.code?.text ?? null,
    value_type: o.valueType,
    value_num: o.valueQuantity?.value ?? null,
    value_comparator: o.valueQuantity?.comparator ?? null,
    unit: o.valueQuantity?.unit ?? null,
    ucum_unit: o.valueQuantity?.ucum ?? null,
    value_text: o.valueString ?? (o.valueTime ? o.valueTime.original : null) ?? conceptText(o.valueCode),
    value_code: value?.code ?? null,
    value_code_system: value?.system ?? null,
    reference_range: range ? range.text ?? [range.low, range.high].map((x) => x ?? '').join('-') : null,
    interpretation: (o.interpretation ?? []).map((i) => i.code),
    effective_at: utc(o.effective),
    effective_original: o.effective?.original ?? null,
    issued_at: utc(o.issued),
    sub_id: o.subId,
  };
}

function reportColumns(d: DiagnosticReport): Record<string, Cell> {
  return { patient_id: d.patientId, order_id: d.orderId, status: d.status, ...codeColumns(d.code), effective_at: utc(d.effective), issued_at: utc(d.issued), result_ids: d.resultIds ?? [] };
}

function orderColumns(s: ServiceRequest): Record<string, Cell> {
  return {
    patient_id: s.patientId, category: s.category, status: s.status, intent: s.intent, order_control: s.orderControl, ...codeColumns(s.code), priority: s.priority,
    authored_at: utc(s.authoredOn), occurrence_at: utc(s.occurrence), requester: s.requester,
  };
}

function appointmentColumns(a: Appointment): Record<string, Cell> {
  return {
    patient_id: a.patientId, status: a.status, service_type: conceptText(a.serviceType), appointment_type: conceptText(a.appointmentType), reason: conceptText(a.reason),
    start_at: utc(a.start), end_at: utc(a.end), duration_minutes: a.durationMinutes, participants: a.participants ?? [],
  };
}

function medicationRequestColumns(m: MedicationRequest): Record<string, Cell> {
  const dose = quantity(m.dose);
  return {
    patient_id: m.patientId, kind: 'request', status: m.status, ...codeColumns(m.medication), dose_value: dose.value, dose_unit: dose.unit,
    route: conceptText(m.route), frequency: m.frequency, at: utc(m.authoredOn), order_id: null,
  };
}

function medicationAdministrationColumns(m: MedicationAdministration): Record<string, Cell> {
  const dose = quantity(m.dose);
  return {
    patient_id: m.patientId, kind: 'administration', status: m.status, ...codeColumns(m.medication), dose_value: dose.value, dose_unit: dose.unit,
    route: conceptText(m.route), frequency: null, at: utc(m.effective), order_id: m.orderId,
  };
}

function immunizationColumns(i: Immunization): Record<string, Cell> {
  const dose = quantity(i.dose);
  return {
    patient_id: i.patientId, status: i.status, ...codeColumns(i.vaccine), occurrence_at: utc(i.occurrence), dose_value: dose.value, dose_unit: dose.unit,
    lot_number: i.lotNumber, manufacturer: i.manufacturer, route: conceptText(i.route), site: conceptText(i.site),
  };
}
