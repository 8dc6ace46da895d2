import type { CanonicalRecords, ClinicalTime } from '@clinmesh/schemas';

/**
 * Compares canonical records with Microsoft FHIR-Converter's R4 output for
 * the same HL7 v2 message on the fields the issue names, and returns each
 * disagreement as `resource|field|detail`. Pure, so the differential test
 * and a developer's script share it.
 */
type Json = Record<string, any>;

const instant = (t: ClinicalTime | null | undefined): string | null => (t?.instant != null ? new Date(t.instant).toISOString() : t?.date ?? null);
function fhirInstant(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  if (/^\d{4}(-\d{2}(-\d{2})?)?$/.test(v)) return v;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? v : new Date(ms).toISOString();
}
const sorted = (xs: Array<string | null | undefined>) => [...new Set(xs.filter((x): x is string => !!x))].sort();
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function compareWithConverter(records: CanonicalRecords, bundle: Json): string[] {
  const diffs: string[] = [];
  const resources = (bundle.entry ?? []).map((e: Json) => e.resource as Json);
  const of = (type: string) => resources.filter((r: Json) => r.resourceType === type);

  const fp = of('Patient')[0];
  const p = records.patients[0];
  if (fp && !p) diffs.push('Patient|missing|');
  if (fp && p) {
    const ids = new Set(p.identifiers.map((i) => i.value));
    for (const i of fp.identifier ?? []) if (i.value && !ids.has(i.value)) diffs.push(`Patient|identifier|${i.value}`);
    if ((fp.birthDate ?? null) !== p.birthDate) diffs.push(`Patient|birthDate|${fp.birthDate} vs ${p.birthDate}`);
    if ((fp.gender ?? null) !== p.gender) diffs.push(`Patient|gender|${fp.gender} vs ${p.gender}`);
    const fn = (fp.name ?? []).map((n: Json) => `${n.family ?? ''}/${(n.given ?? []).join(' ')}`).sort();
    const cn = p.names.map((n) => `${n.family ?? ''}/${n.given.join(' ')}`).sort();
    if (!same(fn, cn)) diffs.push(`Patient|name|${fn.join(';')} vs ${cn.join(';')}`);
    const fa = (fp.address ?? []).map((a: Json) => [...(a.line ?? []), a.city, a.state, a.postalCode].filter(Boolean).join(',')).sort();
    const ca = p.addresses.map((a) => [...a.lines, a.city, a.state, a.postalCode].filter(Boolean).join(',')).sort();
    if (!same(fa, ca)) diffs.push(`Patient|address|${fa.join(';')} vs ${ca.join(';')}`);
  }

  const fe = of('Encounter')[0];
  const e = records.encounters[0];
  if (fe && !e) diffs.push('Encounter|missing|');
  if (fe && e) {
    if ((fe.class?.code ?? null) !== (e.class?.code ?? null)) diffs.push(`Encounter|class|${fe.class?.code} vs ${e.class?.code}`);
    if (fhirInstant(fe.period?.start) !== instant(e.period.start)) diffs.push(`Encounter|period.start|${fhirInstant(fe.period?.start)} vs ${instant(e.period.start)}`);
    if (fhirInstant(fe.period?.end) !== instant(e.period.end)) diffs.push(`Encounter|period.end|${fhirInstant(fe.period?.end)} vs ${instant(e.period.end)}`);
  }

  const obs = records.observations;
  of('Observation').forEach((fo: Json) => {
    const code = fo.code?.coding?.[0]?.code;
    const candidates = obs.filter((o) => o.code.codings.some((c) => c.code === code));
    const value = fo.valueQuantity?.value ?? fo.valueString ?? fo.valueCodeableConcept?.coding?.[0]?.code ?? null;
    const o = candidates.find((c) => (c.valueQuantity?.value ?? c.valueString ?? c.valueCode?.codings[0]?.code ?? null) === value) ?? candidates[0];
    if (!o) return diffs.push(`Observation|missing|${code}`);
    const mine = o.valueQuantity?.value ?? o.valueString ?? o.valueCode?.codings[0]?.code ?? null;
    if (value !== mine) diffs.push(`Observation|value|${code}: ${value} vs ${mine}`);
    if (fo.valueQuantity && (fo.valueQuantity.unit ?? null) !== (o.valueQuantity?.unit ?? null)) diffs.push(`Observation|unit|${code}: ${fo.valueQuantity.unit} vs ${o.valueQuantity?.unit}`);
    const fi = sorted((fo.interpretation ?? []).flatMap((i: Json) => (i.coding ?? []).map((c: Json) => c.code)));
    const ci = sorted(o.interpretation.map((i) => i.code));
    if (!same(fi, ci)) diffs.push(`Observation|interpretation|${code}: ${fi} vs ${ci}`);
    const ft = fhirInstant(fo.effectiveDateTime ?? fo.effectivePeriod?.start);
    if (ft && ft !== instant(o.effective)) diffs.push(`Observation|effective|${code}: ${ft} vs ${instant(o.effective)}`);
  });

  of('ServiceRequest').forEach((fs: Json) => {
    const codes = sorted((fs.code?.coding ?? []).map((c: Json) => c.code));
    if (!codes.length) return; // nothing to compare: the converter made a request without a code
    const s = records.serviceRequests.find((r) => same(sorted(r.code.codings.map((c) => c.code)), codes));
    if (!s) return diffs.push(`ServiceRequest|code|${codes.join(',')} not found in ${records.serviceRequests.map((r) => r.code.codings.map((c) => c.code).join(',')).join(';')}`);
    const fa = fhirInstant(fs.authoredOn);
    if (fa && fa !== instant(s.authoredOn)) diffs.push(`ServiceRequest|authoredOn|${codes}: ${fa} vs ${instant(s.authoredOn)}`);
    const fo = fhirInstant(fs.occurrenceDateTime ?? fs.occurrencePeriod?.start);
    if (fo && fo !== instant(s.occurrence)) diffs.push(`ServiceRequest|occurrence|${codes}: ${fo} vs ${instant(s.occurrence)}`);
  });

  of('Appointment').forEach((fa: Json) => {
    const a = records.appointments[0];
    if (!a) return diffs.push('Appointment|missing|');
    if (fhirInstant(fa.start) !== instant(a.start)) diffs.push(`Appointment|start|${fhirInstant(fa.start)} vs ${instant(a.start)}`);
    if (fhirInstant(fa.end) !== instant(a.end)) diffs.push(`Appointment|end|${fhirInstant(fa.end)} vs ${instant(a.end)}`);
    const fc = sorted((fa.serviceType ?? []).flatMap((s: Json) => (s.coding ?? []).map((c: Json) => c.code)));
    const cc = sorted(a.serviceType?.codings.map((c) => c.code) ?? []);
    if (fc.length && !same(fc, cc)) diffs.push(`Appointment|serviceType|${fc} vs ${cc}`);
  });
  return diffs;
}
