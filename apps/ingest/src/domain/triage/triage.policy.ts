import { Tier, isTier } from '@clinmesh/topology';

/**
 * Triage rules kept as data (triage-rules.data.json): ordered, first match
 * wins, and the id of the rule that fired travels on the event. Critical
 * results come first so no hint can ever push them below stat.
 */
export interface TriageRule {
  id: string;
  tier: Tier;
  description: string;
  when: { messageTypes?: string[]; abnormalFlags?: string[]; bulkHint?: boolean };
}

export interface TriageRules {
  version: string;
  rules: TriageRule[];
}

export interface TriageInput {
  /** HL7 `TYPE^TRIGGER`, or `FHIR/<resourceType>` for each resource of a FHIR payload; a rule matches if any does. */
  messageTypes: readonly string[];
  abnormalFlags: readonly string[];
  /** Arrived in a batch, or the sender marked it as a backfill. */
  bulkHint: boolean;
}

export interface TriageResult {
  tier: Tier;
  ruleId: string;
}

export function triage(rules: TriageRules, input: TriageInput): TriageResult {
  for (const rule of rules.rules) {
    const w = rule.when;
    if (w.bulkHint !== undefined && w.bulkHint !== input.bulkHint) continue;
    if (w.messageTypes && !w.messageTypes.some((p) => input.messageTypes.some((t) => (p.endsWith('*') ? t.startsWith(p.slice(0, -1)) : p === t)))) continue;
    if (w.abnormalFlags && !input.abnormalFlags.some((f) => w.abnormalFlags!.includes(f.toUpperCase()))) continue;
    return { tier: rule.tier, ruleId: `${rules.version}/${rule.id}` };
  }
  return { tier: 'routine', ruleId: `${rules.version}/none` };
}

export function validateTriageRules(rules: TriageRules): TriageRules {
  const problems = rules.rules.filter((r) => !r.id || !isTier(r.tier)).map((r) => `rule ${r.id ?? '?'} has an invalid tier ${r.tier}`);
  if (problems.length) throw new Error(`invalid triage rules: ${problems.join('; ')}`);
  return rules;
}
