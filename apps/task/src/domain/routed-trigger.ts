import type { CanonicalEvent, Observation, RoutedEvent } from '@clinmesh/schemas';

/**
 * The idempotency key of a task started by a routed event: one task per
 * workflow, canonical record and source message — whatever the number of
 * audience copies, replays or terminology re-emissions (all share them).
 */
export function routedTriggerKey(workflow: string, routed: RoutedEvent): string {
  return `${workflow}|${routed.canonical.canonicalId}|${routed.correlationId}`;
}

/** The source marked the record as a correction of an earlier one (OBX-11/OBR-25 = C, amended/corrected). */
export function isCorrection(canonical: CanonicalEvent): boolean {
  const lists = Object.values(canonical.records ?? {}) as Array<Array<{ id?: string; correction?: boolean; status?: string | null }>>;
  for (const list of lists) {
    for (const r of list ?? []) {
      if (r?.correction === true) return true;
      if (r?.id === canonical.canonicalId && (r.status === 'corrected' || r.status === 'amended')) return true;
    }
  }
  try {
    const doc = JSON.parse(canonical.document || '{}') as { records?: Array<{ correction?: boolean }> };
    return (doc.records ?? []).some((r) => r.correction === true);
  } catch {
    return false;
  }
}

const CRITICAL_FLAGS = ['HH', 'LL', 'AA', 'HU', 'LU', '>', '<'];

/** The finding a critical-result task communicates (test, value, unit, flags; no patient identifiers), and when it was identified. */
export function findingOf(canonical: CanonicalEvent): { finding: string | null; identifiedAt: number } {
  const observations: Observation[] = canonical.records?.observations ?? [];
  const flagged = observations.find((o) => o.interpretation?.some((c) => CRITICAL_FLAGS.includes(c.code ?? ''))) ?? observations[0];
  const identifiedAt = flagged?.issued?.instant ?? canonical.recordedAt ?? canonical.receivedAt;
  if (!flagged) return { finding: null, identifiedAt };
  const code = flagged.code?.codings?.[0];
  const name = flagged.code?.text ?? code?.display ?? code?.code ?? 'result';
  const q = flagged.valueQuantity;
  const value = q ? `${q.value ?? ''} ${q.unit ?? ''}`.trim() : (flagged.valueString ?? flagged.valueCode?.text ?? '');
  const flags = (flagged.interpretation ?? []).map((c) => c.code).filter(Boolean).join(',');
  return { finding: `${name}${code?.code ? ` (${code.system?.includes('loinc') ? 'LOINC ' : ''}${code.code})` : ''}: ${value}${flags ? ` [${flags}]` : ''}`, identifiedAt };
}
