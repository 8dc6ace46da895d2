import { Tier, higherTier } from '@clinmesh/topology';

/**
 * Routing policy as versioned data: each rule matches on message type /
 * resource type / tier and contributes workflows, audiences and optionally a
 * tier escalation. Evaluation is pure and explainable: the decision lists
 * every rule that fired. Tiers are only ever raised here.
 */
export interface RoutingRule {
  id: string;
  description: string;
  when: { messageTypes?: string[]; resourceTypes?: string[]; tiers?: Tier[] };
  then: { workflows?: string[]; audiences?: string[]; escalateTo?: Tier };
}

export interface RoutingPolicy {
  version: string;
  defaultWorkflow: string;
  defaultAudiences: string[];
  rules: RoutingRule[];
}

export interface RoutingInput {
  messageType: string;
  resourceType: string;
  tier: Tier;
}

export interface RoutingDecision {
  policyVersion: string;
  ruleIds: string[];
  workflows: string[];
  audiences: string[];
  tier: Tier;
  originalTier: Tier;
  explanation: string;
}

export function decideRouting(policy: RoutingPolicy, input: RoutingInput): RoutingDecision {
  const fired = policy.rules.filter((r) => matches(r, input));
  const workflows = new Set<string>();
  const audiences = new Set<string>(policy.defaultAudiences);
  let tier = input.tier;
  for (const rule of fired) {
    rule.then.workflows?.forEach((w) => workflows.add(w));
    rule.then.audiences?.forEach((a) => audiences.add(a));
    if (rule.then.escalateTo) tier = higherTier(tier, rule.then.escalateTo);
  }
  const ruleIds = fired.map((r) => r.id);
  if (!workflows.size) {
    workflows.add(policy.defaultWorkflow);
    ruleIds.push('default-workflow');
  }
  const explanation = [
    fired.length ? `rules fired: ${fired.map((r) => `${r.id} (${r.description})`).join('; ')}` : 'no specific rule matched; default workflow',
    tier !== input.tier ? `tier escalated ${input.tier} → ${tier}` : `tier kept ${tier}`,
  ].join('. ');
  return { policyVersion: policy.version, ruleIds, workflows: [...workflows], audiences: [...audiences], tier, originalTier: input.tier, explanation };
}

function matches(rule: RoutingRule, input: RoutingInput): boolean {
  const w = rule.when;
  if (w.messageTypes && !w.messageTypes.some((p) => typeMatches(p, input.messageType))) return false;
  if (w.resourceTypes && !w.resourceTypes.includes(input.resourceType)) return false;
  if (w.tiers && !w.tiers.includes(input.tier)) return false;
  return true;
}

/** `ADT^*` matches every ADT trigger; otherwise exact. */
function typeMatches(pattern: string, value: string): boolean {
  return pattern.endsWith('*') ? value.startsWith(pattern.slice(0, -1)) : pattern === value;
}
