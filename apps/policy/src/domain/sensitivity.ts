import type { CanonicalRecords, CodeableConcept, Coding } from '@clinmesh/schemas';
import type { CompiledPolicy, SecurityLabel } from './policy-set';

/** Why a record carries a label: the value set and the code that matched. */
export interface LabelEvidence {
  label: SecurityLabel;
  valueSet: string;
  recordId: string;
  recordType: string;
  system: string;
  code: string;
}

export interface Labelling {
  /** Every label seen on the event, sorted. */
  labels: SecurityLabel[];
  /** Record id → its labels (records without labels are absent). */
  byRecord: ReadonlyMap<string, ReadonlySet<SecurityLabel>>;
  /** Labels the source put on the whole message: they cover every record, so they cannot be redacted away. */
  messageLabels: SecurityLabel[];
  evidence: LabelEvidence[];
}

/** The codes of each record that decide its sensitivity. */
export function recordCodes(records: CanonicalRecords | null | undefined): Array<{ recordId: string; recordType: string; codings: Coding[] }> {
  if (!records) return [];
  const out: Array<{ recordId: string; recordType: string; codings: Coding[] }> = [];
  const cc = (c: CodeableConcept | null | undefined) => c?.codings ?? [];
  for (const o of records.observations) out.push({ recordId: o.id, recordType: 'Observation', codings: [...cc(o.code)] });
  for (const r of records.diagnosticReports) out.push({ recordId: r.id, recordType: 'DiagnosticReport', codings: cc(r.code) });
  for (const c of records.conditions) out.push({ recordId: c.id, recordType: 'Condition', codings: cc(c.code) });
  for (const s of records.serviceRequests) out.push({ recordId: s.id, recordType: 'ServiceRequest', codings: [...cc(s.code), ...s.reasons.flatMap(cc)] });
  for (const p of records.procedures) out.push({ recordId: p.id, recordType: 'Procedure', codings: cc(p.code) });
  for (const m of records.medicationRequests) out.push({ recordId: m.id, recordType: 'MedicationRequest', codings: cc(m.medication) });
  for (const m of records.medicationAdministrations) out.push({ recordId: m.id, recordType: 'MedicationAdministration', codings: cc(m.medication) });
  for (const d of records.documents) out.push({ recordId: d.id, recordType: 'DocumentReference', codings: cc(d.type) });
  for (const a of records.appointments) out.push({ recordId: a.id, recordType: 'Appointment', codings: cc(a.reason) });
  return out;
}

/**
 * Labels at policy time: each record's codes against the policy's value sets
 * (exact codes and code prefixes such as ICD-10-CM F10–F19), plus the
 * confidentiality codes the source sent (`security` in the event document).
 * A coding is looked up under its standard system and under its original
 * (local) system through the policy's system aliases (LN → LOINC, I10 → ICD-10-CM).
 */
export function labelRecords(policy: CompiledPolicy, records: CanonicalRecords | null | undefined, sourceLabels: readonly string[] = []): Labelling {
  const byRecord = new Map<string, Set<SecurityLabel>>();
  const evidence: LabelEvidence[] = [];
  const aliases = policy.set.systemAliases ?? {};
  for (const { recordId, recordType, codings } of recordCodes(records)) {
    for (const coding of codings) {
      const candidates = new Set<string>();
      for (const [system, code] of [[coding.system, coding.code], [coding.originalSystem, coding.originalCode ?? coding.code]] as const) {
        if (!system || !code) continue;
        candidates.add(`${aliases[system] ?? system}|${code}`);
      }
      for (const key of candidates) {
        const [system, code] = splitKey(key);
        const sets = [...(policy.codeIndex.get(key) ?? []), ...policy.prefixIndex.filter((p) => p.system === system && code.startsWith(p.prefix)).map((p) => p.valueSet)];
        for (const vs of sets) {
          const labels = byRecord.get(recordId) ?? new Set<SecurityLabel>();
          if (!labels.has(vs.label)) evidence.push({ label: vs.label, valueSet: vs.id, recordId, recordType, system, code });
          labels.add(vs.label);
          byRecord.set(recordId, labels);
        }
      }
    }
  }
  const labels = new Set<SecurityLabel>();
  for (const set of byRecord.values()) for (const l of set) labels.add(l);
  const messageLabels = new Set<SecurityLabel>();
  for (const l of sourceLabels) if (l === 'R' || l === 'V' || l === 'ETH' || l === 'HIV' || l === 'PSY' || l === 'STD' || l === 'SDV' || l === 'SUD') messageLabels.add(l);
  for (const l of messageLabels) labels.add(l);
  return { labels: [...labels].sort(), byRecord, messageLabels: [...messageLabels].sort(), evidence };
}

function splitKey(key: string): [string, string] {
  const i = key.lastIndexOf('|');
  return [key.slice(0, i), key.slice(i + 1)];
}

/**
 * Scoring is an input, not a decision: a record is critical when an
 * observation's interpretation is one of the policy's critical codes or the
 * optional score carried with the event reaches the policy's threshold.
 */
export function criticalSignals(policy: CompiledPolicy, records: CanonicalRecords | null | undefined, score: number | null): { critical: boolean; reasons: string[] } {
  const reasons: string[] = [];
  for (const o of records?.observations ?? []) {
    const hit = o.interpretation.find((i) => policy.criticalCodes.has(i.code));
    if (hit) reasons.push(`observation interpretation ${hit.code}`);
  }
  const threshold = policy.set.critical.scoreAtLeast;
  if (score != null && threshold != null && score >= threshold) reasons.push(`score ${score} ≥ ${threshold}`);
  return { critical: reasons.length > 0, reasons: [...new Set(reasons)] };
}
