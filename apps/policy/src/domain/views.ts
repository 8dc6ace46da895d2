import { createHmac } from 'node:crypto';
import type { CanonicalEvent, CanonicalRecords, ClinicalTime, Patient } from '@clinmesh/schemas';
import type { PatientField, ProjectionDefinition, RecordList, SecurityLabel } from './policy-set';

const RECORD_LISTS: RecordList[] = [
  'patients', 'encounters', 'observations', 'diagnosticReports', 'serviceRequests', 'medicationRequests', 'medicationAdministrations',
  'immunizations', 'appointments', 'conditions', 'allergies', 'documents', 'procedures', 'coverages',
];

/**
 * An audience's view of a canonical event (minimum necessary): labelled
 * records it may not see are removed, record lists outside its projection
 * emptied, patient fields outside it blanked, unmapped-code and mapping-issue
 * lists (they quote source content) dropped unless the projection is full, the
 * document summary rebuilt from what is left — and, for a de-identifying
 * projection, HIPAA Safe Harbor applied with a per-audience pseudonym.
 */
export function projectView(
  event: CanonicalEvent,
  projection: ProjectionDefinition,
  options: { withheld: readonly SecurityLabel[]; recordLabels: ReadonlyMap<string, ReadonlySet<SecurityLabel>>; pseudonymSecret?: string; audience?: string },
): CanonicalEvent {
  const full = projection.records === '*' && projection.patient === '*' && !projection.deidentify && options.withheld.length === 0;
  if (full || !event.records) return full ? event : { ...event, unmappedCodes: [], issues: [] };
  const withheld = new Set(options.withheld);
  const hidden = (id: string) => [...(options.recordLabels.get(id) ?? [])].some((l) => withheld.has(l));
  const keep = (list: RecordList) => projection.records === '*' || projection.records.includes(list);
  const src = event.records;
  const removed = new Set<string>();
  const filter = <T extends { id: string }>(list: RecordList, items: T[]): T[] => {
    if (!keep(list)) { items.forEach((i) => removed.add(i.id)); return []; }
    return items.filter((i) => (hidden(i.id) ? (removed.add(i.id), false) : true));
  };
  const records: CanonicalRecords = {
    patients: keep('patients') ? src.patients.map((p) => projectPatient(p, projection.patient)) : [],
    encounters: filter('encounters', src.encounters),
    observations: filter('observations', src.observations),
    diagnosticReports: [],
    serviceRequests: filter('serviceRequests', src.serviceRequests),
    medicationRequests: filter('medicationRequests', src.medicationRequests),
    medicationAdministrations: filter('medicationAdministrations', src.medicationAdministrations),
    immunizations: filter('immunizations', src.immunizations),
    appointments: filter('appointments', src.appointments),
    conditions: filter('conditions', src.conditions),
    allergies: filter('allergies', src.allergies),
    documents: filter('documents', src.documents),
    procedures: filter('procedures', src.procedures),
    coverages: filter('coverages', src.coverages),
  };
  records.diagnosticReports = filter('diagnosticReports', src.diagnosticReports).map((r) => ({ ...r, resultIds: r.resultIds.filter((id) => !removed.has(id)) }));
  let view: CanonicalEvent = {
    ...event,
    records,
    unmappedCodes: projection.records === '*' ? (event.unmappedCodes ?? []).filter((u) => !removed.has(u.recordId)) : [],
    issues: projection.records === '*' ? event.issues ?? [] : [],
    document: summary(event, records),
  };
  if (projection.deidentify) view = safeHarbor(view, options.pseudonymSecret ?? '', options.audience ?? '');
  return view;
}

function projectPatient(p: Patient, fields: '*' | PatientField[]): Patient {
  if (fields === '*') return p;
  const has = (f: PatientField) => fields.includes(f);
  return {
    ...p,
    identifiers: has('identifiers') ? p.identifiers : [],
    names: has('names') ? p.names : [],
    birthDate: has('birthDate') ? p.birthDate : null,
    gender: has('gender') ? p.gender : null,
    addresses: has('addresses') ? p.addresses : [],
    telecoms: has('telecoms') ? p.telecoms : [],
    deceased: has('deceased') ? p.deceased : null,
    deceasedAt: has('deceasedAt') ? p.deceasedAt : null,
    maritalStatus: has('maritalStatus') ? p.maritalStatus : null,
    mergedIdentifiers: has('mergedIdentifiers') ? p.mergedIdentifiers : [],
  };
}

function summary(event: CanonicalEvent, records: CanonicalRecords): string {
  let doc: Record<string, unknown> = {};
  try { doc = JSON.parse(event.document) as Record<string, unknown>; } catch { /* not JSON: rebuilt below */ }
  const list = RECORD_LISTS.flatMap((k) => (records[k] as Array<{ id: string; changeType: string; correction: boolean; provenance: { sourceMessageType: string } }>)
    .map((r) => ({ resourceType: k, id: r.id, changeType: r.changeType, correction: r.correction })));
  return JSON.stringify({ resourceType: doc.resourceType ?? event.resourceType, id: doc.id ?? event.canonicalId, format: doc.format, messageType: doc.messageType, patient: doc.patient ?? null, records: list });
}

/** Per-audience pseudonym: HMAC-SHA256(secret, audience|value), stable for the audience, unlinkable across audiences. */
export function pseudonym(secret: string, audience: string, value: string): string {
  return `psn-${createHmac('sha256', secret).update(`${audience}|${value}`).digest('hex').slice(0, 32)}`;
}

/** 3-digit ZIP prefixes of areas with 20,000 people or fewer (2000 Census), which Safe Harbor reduces to 000. */
const RESTRICTED_ZIP3 = new Set(['036', '059', '063', '102', '203', '556', '692', '790', '821', '823', '830', '831', '878', '879', '884', '890', '893']);

/**
 * HIPAA Safe Harbor (45 CFR 164.514(b)(2)) over a projected view: names,
 * identifiers (MRN, account, device, certificate numbers), contacts, street,
 * city, full ZIP (kept to 3 digits, 000 for small areas), free text, people
 * references and every date element but the year are removed; ages over 89
 * are not given (birth date dropped); record ids, references, the EPID and
 * message ids become per-audience pseudonyms.
 */
export function safeHarbor(event: CanonicalEvent, secret: string, audience: string): CanonicalEvent {
  // One HMAC per distinct value: a view repeats its patient, order and report ids in every record.
  const pseudonyms = new Map<string, string>();
  const psn = (v: string | null) => {
    if (!v) return v;
    let p = pseudonyms.get(v);
    if (p === undefined) pseudonyms.set(v, (p = pseudonym(secret, audience, v)));
    return p;
  };
  const year = (t: number | null | undefined) => (t == null ? t : Date.UTC(new Date(t).getUTCFullYear(), 0, 1));
  const nowYear = new Date().getUTCFullYear();
  const walk = (value: unknown, key = ''): unknown => {
    if (Array.isArray(value)) {
      if (key === 'identifiers' || key === 'mergedIdentifiers' || key === 'telecoms' || key === 'participants' || key === 'performers' || key === 'authors') return [];
      if (key === 'resultIds') return value.map((v) => psn(String(v)));
      return value.map((v) => walk(v));
    }
    if (value && typeof value === 'object') {
      const o = value as Record<string, unknown>;
      if ('precision' in o && 'original' in o && 'offsetSource' in o) return yearOnly(o as unknown as ClinicalTime);
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(o)) out[k] = walk(v, k);
      return out;
    }
    if (typeof value === 'string' && ID_KEYS.has(key)) return psn(value);
    if (key === 'messageId' && typeof value === 'string') return psn(value);
    if ((key === 'text' || key === 'lotNumber' || key === 'location' || key === 'requester' || key === 'groupNumber' || key === 'payor') && typeof value === 'string') return null;
    return value;
  };
  const records = walk(event.records) as CanonicalRecords;
  for (const p of records.patients) {
    p.names = [];
    p.addresses = p.addresses.map((a) => ({ lines: [], city: null, state: a.state, postalCode: zip3(a.postalCode), country: a.country, use: null }));
    const born = p.birthDate ? Number(p.birthDate.slice(0, 4)) : null;
    p.birthDate = born === null || nowYear - born > 89 ? null : String(born);
    p.maritalStatus = null;
  }
  return {
    ...event,
    epid: psn(event.epid) ?? '',
    canonicalId: psn(event.canonicalId) ?? '',
    occurredAt: year(event.occurredAt),
    recordedAt: year(event.recordedAt) ?? 0,
    receivedAt: year(event.receivedAt) ?? 0,
    provenance: { ...event.provenance, messageId: psn(event.provenance.messageId) ?? '' },
    records,
    unmappedCodes: [],
    issues: [],
    document: JSON.stringify({ resourceType: event.resourceType, id: psn(event.canonicalId), deidentified: 'safe-harbor', records: RECORD_LISTS.flatMap((k) => (records[k] as Array<{ id: string }>).map((r) => ({ resourceType: k, id: r.id }))) }),
  };
}

const ID_KEYS = new Set(['id', 'patientId', 'reportId', 'orderId', 'partOfId', 'encounterId', 'replacesId', 'subId']);

function zip3(zip: string | null): string | null {
  if (!zip) return null;
  const digits = zip.replace(/\D/g, '');
  if (digits.length < 3) return null;
  const z = digits.slice(0, 3);
  return RESTRICTED_ZIP3.has(z) ? '000' : z;
}

function yearOnly(t: ClinicalTime): ClinicalTime {
  const y = t.instant != null ? new Date(t.instant).getUTCFullYear() : Number((t.date ?? t.original).slice(0, 4));
  if (!Number.isFinite(y)) return { instant: null, original: '', offset: null, precision: 'YEAR', offsetSource: 'NONE', date: null };
  return { instant: Date.UTC(y, 0, 1), original: String(y), offset: null, precision: 'YEAR', offsetSource: 'NONE', date: String(y) };
}
