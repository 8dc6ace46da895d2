import type { CanonicalRecords, ClinicalTime, CodeableConcept } from '@clinmesh/schemas';

/**
 * Compares canonical records with Microsoft FHIR-Converter's R4 output for
 * the same HL7 v2 message, fact by fact. Every fact the converter states on
 * the compared kinds is one {@link Fact}: its kind, a key naming it within
 * the message, the converter's value and the canonical value (null when the
 * canonical record lacks it). Pure, so the differential test and a
 * developer's script share it.
 */
type Json = Record<string, any>;

export interface Fact {
  kind: FactKind;
  /** Which fact within the message (a code, an identifier value, an index). */
  key: string;
  converter: string | null;
  canonical: string | null;
}

export const FACT_KINDS = [
  'patient.identifier', 'patient.name', 'patient.birthDate', 'patient.gender', 'patient.address',
  'encounter.class', 'encounter.start', 'encounter.end',
  'observation.code', 'observation.value', 'observation.unit', 'observation.interpretation', 'observation.time',
  'order.code', 'order.authoredOn', 'order.occurrence', 'report.code', 'report.time',
  'appointment.start', 'appointment.end', 'appointment.serviceType',
  'immunization.vaccine', 'immunization.time', 'medication.code', 'medicationAdministration.code',
  'condition.code', 'condition.onset', 'allergy.code', 'procedure.code', 'procedure.time',
  'coverage.plan', 'coverage.period', 'document.type', 'document.identifier',
] as const;
export type FactKind = typeof FACT_KINDS[number];

export const instantOf = (t: ClinicalTime | null | undefined): string | null => (t?.instant != null ? new Date(t.instant).toISOString() : t?.date ?? t?.original ?? null);
export function fhirInstant(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  if (/^\d{4}(-\d{2}(-\d{2})?)?$/.test(v)) return v;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? v : new Date(ms).toISOString();
}
/** A date-only converter value agrees with a canonical instant on the same calendar day as sent. */
function sameTime(conv: string | null, t: ClinicalTime | null | undefined): string | null {
  const mine = instantOf(t);
  if (conv && mine && conv.length === 10 && (t?.original ?? '').replace(/^(\d{4})(\d{2})(\d{2}).*/, '$1-$2-$3') === conv) return conv;
  return mine;
}
const codesOf = (cc: CodeableConcept | null | undefined): string[] => (cc?.codings ?? []).flatMap((c) => [c.code, c.originalCode].filter((x): x is string => !!x));
const fhirCodes = (cc: Json | undefined): string[] => (cc?.coding ?? []).map((c: Json) => c.code).filter((c: unknown): c is string => typeof c === 'string');

/** Finds, one to one, the canonical record for each converter resource sharing a code; prefers the best `score`. */
function matcher<T>(list: T[], codes: (r: T) => string[]) {
  const used = new Set<T>();
  return (code: string | undefined, score: (r: T) => number = () => 0): T | null => {
    if (!code) return null;
    const candidates = list.filter((r) => !used.has(r) && codes(r).includes(code));
    if (!candidates.length) return null;
    const best = candidates.reduce((a, b) => (score(b) > score(a) ? b : a));
    used.add(best);
    return best;
  };
}

function obsValue(o: Json): string | null {
  const v = o.valueQuantity?.value ?? o.valueString ?? o.valueCodeableConcept?.coding?.[0]?.code ?? o.valueDateTime ?? o.valueInteger ?? o.valueBoolean ?? null;
  if (v !== null) return String(v);
  // Repeated NM (OBX-5 `60~120`): the converter puts each repetition in a component with the same code.
  const sameCode = (o.component ?? []).find((c: Json) => fhirCodes(c.code).some((x) => fhirCodes(o.code).includes(x)));
  const cv = sameCode?.valueQuantity?.value ?? sameCode?.valueString ?? null;
  return cv === null ? null : String(cv);
}
function obsUnit(o: Json): string | null {
  const q = o.valueQuantity ?? (o.component ?? []).find((c: Json) => fhirCodes(c.code).some((x) => fhirCodes(o.code).includes(x)))?.valueQuantity;
  return q ? q.unit ?? q.code ?? null : null;
}

export function converterFacts(records: CanonicalRecords, bundle: Json): Fact[] {
  const facts: Fact[] = [];
  const add = (kind: FactKind, key: string, converter: string | null, canonical: string | null) => {
    if (converter !== null || canonical !== null) facts.push({ kind, key, converter, canonical });
  };
  const resources: Json[] = (bundle.entry ?? []).map((e: Json) => e.resource as Json);
  const of = (type: string) => resources.filter((r) => r.resourceType === type);

  const fp = of('Patient')[0];
  const p = records.patients[0];
  if (fp) {
    const ids = new Set((p?.identifiers ?? []).map((i) => i.value));
    for (const i of fp.identifier ?? []) if (i.value) add('patient.identifier', i.value, i.value, ids.has(i.value) ? i.value : null);
    add('patient.birthDate', 'birthDate', fp.birthDate ?? null, p?.birthDate ?? null);
    add('patient.gender', 'gender', fp.gender ?? null, p?.gender ?? null);
    const cn = new Set((p?.names ?? []).map((n) => `${n.family ?? ''}/${n.given.join(' ')}`));
    for (const n of fp.name ?? []) {
      const v = `${n.family ?? ''}/${(n.given ?? []).join(' ')}`;
      if (v !== '/') add('patient.name', v, v, cn.has(v) ? v : null);
    }
    const ca = new Set((p?.addresses ?? []).map((a) => [...a.lines, a.city, a.state, a.postalCode].filter(Boolean).join(',')));
    for (const a of fp.address ?? []) {
      const v = [...(a.line ?? []), a.city, a.state, a.postalCode].filter(Boolean).join(',');
      if (v) add('patient.address', v, v, ca.has(v) ? v : null);
    }
  }

  const fe = of('Encounter')[0];
  const e = records.encounters[0];
  if (fe) {
    add('encounter.class', 'class', fe.class?.code ?? null, e?.class?.code ?? null);
    const fs = fhirInstant(fe.period?.start);
    const fend = fhirInstant(fe.period?.end);
    add('encounter.start', 'period.start', fs, sameTime(fs, e?.period.start));
    add('encounter.end', 'period.end', fend, sameTime(fend, e?.period.end));
  }

  const findObs = matcher(records.observations, (o) => codesOf(o.code));
  for (const fo of of('Observation')) {
    const code = fhirCodes(fo.code)[0];
    if (!code) continue;
    const value = obsValue(fo);
    const ft = fhirInstant(fo.effectiveDateTime ?? fo.effectivePeriod?.start);
    const o = findObs(code, (c) => {
      const mine = c.valueQuantity?.value ?? c.valueString ?? c.valueCode?.codings[0]?.code ?? instantOf(c.valueTime);
      return (mine !== null && String(mine) === value ? 2 : 0) + (ft && sameTime(ft, c.effective) === ft ? 1 : 0);
    });
    add('observation.code', code, code, o ? code : null);
    if (!o) continue;
    const mine = o.valueQuantity?.value ?? o.valueString ?? o.valueCode?.codings.map((c) => c.originalCode ?? c.code).find((c) => c === value) ?? o.valueCode?.codings[0]?.code
      ?? (o.valueTime ? (value && value.length === 10 ? o.valueTime.date ?? o.valueTime.original?.replace(/^(\d{4})(\d{2})(\d{2}).*/, '$1-$2-$3') : instantOf(o.valueTime)) : null);
    if (value !== null) add('observation.value', code, value, mine === null || mine === undefined ? null : String(mine));
    const fu = obsUnit(fo);
    if (fu !== null) add('observation.unit', code, fu, o.valueQuantity?.unit ?? null);
    const fi = [...new Set((fo.interpretation ?? []).flatMap((i: Json) => fhirCodes(i)))].sort().join(',');
    if (fi) add('observation.interpretation', code, fi, [...new Set(o.interpretation.map((i) => i.code))].sort().join(',') || null);
    if (ft) add('observation.time', code, ft, sameTime(ft, o.effective));
  }

  const findOrder = matcher(records.serviceRequests, (r) => codesOf(r.code));
  for (const fs of of('ServiceRequest')) {
    const codes = fhirCodes(fs.code);
    if (!codes.length) continue; // the converter made a request without a code: no fact to compare
    const s = findOrder(codes[0]) ?? codes.slice(1).map((c) => findOrder(c)).find(Boolean) ?? null;
    add('order.code', codes[0], codes[0], s ? codes[0] : null);
    if (!s) continue;
    const fa = fhirInstant(fs.authoredOn);
    if (fa) add('order.authoredOn', codes[0], fa, sameTime(fa, s.authoredOn));
    const fo = fhirInstant(fs.occurrenceDateTime ?? fs.occurrencePeriod?.start);
    if (fo) add('order.occurrence', codes[0], fo, sameTime(fo, s.occurrence));
  }

  const findReport = matcher(records.diagnosticReports, (r) => codesOf(r.code));
  // An OBX of type RP/ED (reference pointer, encapsulated data) is a report the converter makes a DiagnosticReport of
  // (presentedForm); the canonical record of the same fact is the Observation carrying that code and pointer.
  const findPointer = matcher(records.observations.filter((o) => o.valueType === 'RP' || o.valueType === 'ED'), (o) => codesOf(o.code));
  for (const fr of of('DiagnosticReport')) {
    const code = fhirCodes(fr.code)[0];
    if (!code) continue;
    const r = findReport(code);
    add('report.code', code, code, r || findPointer(code) ? code : null);
    const ft = fhirInstant(fr.effectiveDateTime ?? fr.effectivePeriod?.start);
    if (r && ft) add('report.time', code, ft, sameTime(ft, r.effective));
  }

  of('Appointment').forEach((fa, i) => {
    const a = records.appointments[i];
    const fs = fhirInstant(fa.start);
    const fend = fhirInstant(fa.end);
    add('appointment.start', `start[${i}]`, fs, sameTime(fs, a?.start));
    add('appointment.end', `end[${i}]`, fend, sameTime(fend, a?.end));
    const fc = (fa.serviceType ?? []).flatMap((s: Json) => fhirCodes(s));
    for (const c of fc) add('appointment.serviceType', c, c, codesOf(a?.serviceType).includes(c) ? c : null);
  });

  const findImm = matcher(records.immunizations, (r) => codesOf(r.vaccine));
  for (const fi of of('Immunization')) {
    const code = fhirCodes(fi.vaccineCode)[0];
    if (!code) continue;
    const ft = fhirInstant(fi.occurrenceDateTime);
    const r = findImm(code, (c) => (ft && sameTime(ft, c.occurrence) === ft ? 1 : 0));
    add('immunization.vaccine', code, code, r ? code : null);
    if (r && ft) add('immunization.time', code, ft, sameTime(ft, r.occurrence));
  }

  // Medications: the converter puts the drug on a Medication resource the request references.
  const medCode = (m: Json): string | undefined => {
    if (m.medicationCodeableConcept) return fhirCodes(m.medicationCodeableConcept)[0];
    const ref = m.medicationReference?.reference as string | undefined;
    const med = ref ? resources.find((x) => x.resourceType === 'Medication' && ref.endsWith(`/${x.id}`)) : undefined;
    return med ? fhirCodes(med.code)[0] : undefined;
  };
  const findMed = matcher(records.medicationRequests, (r) => codesOf(r.medication));
  for (const fm of of('MedicationRequest')) {
    const code = medCode(fm);
    if (code) add('medication.code', code, code, findMed(code) ? code : null);
  }
  const findAdmin = matcher(records.medicationAdministrations, (r) => codesOf(r.medication));
  for (const fm of of('MedicationAdministration')) {
    const code = medCode(fm);
    if (code) add('medicationAdministration.code', code, code, findAdmin(code) ? code : null);
  }

  const findCond = matcher(records.conditions, (r) => codesOf(r.code));
  for (const fc of of('Condition')) {
    const code = fhirCodes(fc.code)[0];
    if (!code) continue;
    const c = findCond(code);
    add('condition.code', code, code, c ? code : null);
    const fo = fhirInstant(fc.onsetDateTime);
    if (c && fo) add('condition.onset', code, fo, sameTime(fo, c.onset));
  }

  const findAllergy = matcher(records.allergies, (r) => codesOf(r.code));
  for (const fa of of('AllergyIntolerance')) {
    const code = fhirCodes(fa.code)[0];
    if (code) add('allergy.code', code, code, findAllergy(code) ? code : null);
  }

  const findProc = matcher(records.procedures ?? [], (r) => codesOf(r.code));
  for (const fp2 of of('Procedure')) {
    const code = fhirCodes(fp2.code)[0];
    if (!code) continue;
    const r = findProc(code);
    add('procedure.code', code, code, r ? code : null);
    const ft = fhirInstant(fp2.performedDateTime ?? fp2.performedPeriod?.start);
    if (r && ft) add('procedure.time', code, ft, sameTime(ft, r.performed));
  }

  of('Coverage').forEach((fc, i) => {
    const plan = (fc.class ?? []).find((c: Json) => fhirCodes(c.type).includes('plan'))?.value ?? null;
    const c = (records.coverages ?? []).find((x) => plan && codesOf(x.plan).includes(plan)) ?? (records.coverages ?? [])[i];
    if (plan) add('coverage.plan', `plan[${i}]`, plan, c && codesOf(c.plan).includes(plan) ? plan : codesOf(c?.plan)[0] ?? null);
    const fs = fhirInstant(fc.period?.start);
    if (fs) add('coverage.period', `period.start[${i}]`, fs, sameTime(fs, c?.period.start));
  });

  of('DocumentReference').forEach((fd, i) => {
    const d = records.documents[i];
    const type = fhirCodes(fd.type)[0];
    if (type) add('document.type', `type[${i}]`, type, codesOf(d?.type).includes(type) ? type : codesOf(d?.type)[0] ?? null);
    const mi = fd.masterIdentifier?.value;
    if (mi) add('document.identifier', `masterIdentifier[${i}]`, mi, d?.identifiers.some((x) => x.value === mi) ? mi : null);
  });
  return facts;
}

/** Differences only, as `kind|key|converter vs canonical` (kept for scripts). */
export function compareWithConverter(records: CanonicalRecords, bundle: Json): string[] {
  return converterFacts(records, bundle).filter((f) => f.converter !== f.canonical).map((f) => `${f.kind}|${f.key}|${f.converter} vs ${f.canonical}`);
}
