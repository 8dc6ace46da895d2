import type { PayloadContent } from './fhir/notification-bundle';
import { ClinmeshError } from '@clinmesh/errors';
import { TIERS, Tier } from '@clinmesh/topology';
import { secretProblems } from './webhook-signature';

/** HL7 v3 PurposeOfUse codes a subscription may be bound to. */
export const PURPOSES_OF_USE = ['TREAT', 'HPAYMT', 'HOPERAT', 'HRESCH', 'PUBHLTH', 'BTG'] as const;
/** The operations audience: task lifecycle events of every audience (no clinical views); needs admin:operate. */
export const OPERATIONS_AUDIENCE = '*';
export const TASK_CHANGES = ['CREATED', 'UPDATED', 'ESCALATED', 'COMPLETED', 'CANCELLED', 'ACKNOWLEDGED', 'FEEDBACK'] as const;

export interface SubscriptionFilter {
  tiers?: Tier[];
  workflows?: string[];
  /** `ADT^*` style prefixes allowed. */
  messageTypes?: string[];
  resourceTypes?: string[];
  /** Routed views: only those policy marked critical. */
  criticalOnly?: boolean;
}

export type SubscriptionStatus = 'active' | 'paused' | 'disabled';
export type Ordering = 'none' | 'patient';

export interface Subscription {
  id: string;
  kind: 'webhook' | 'fhir';
  name: string;
  url: string;
  audience: string;
  purposeOfUse: string;
  /** `routed` (the audience's routed views) and `task.<change>` / `task.*`. */
  events: string[];
  filter: SubscriptionFilter;
  ordering: Ordering;
  status: SubscriptionStatus;
  disabledReason: string | null;
  version: number;
  createdAt: string;
  /** FHIR subscriptions: topic canonical, payload content, heartbeat period (s), FHIR status. */
  fhir: FhirSubscriptionState | null;
}

export interface FhirSubscriptionState {
  topic: string;
  payload: PayloadContent;
  heartbeatPeriod: number | null;
  status: 'requested' | 'active' | 'error' | 'off';
  eventsSinceStart: number;
  headers: string[];
}

/** What a subscription is matched against (no PHI). */
export interface MatchableEvent {
  kind: 'routed' | 'task';
  /** `routed` or `task.<change>`. */
  eventName: string;
  tier: Tier;
  workflows: string[];
  messageType: string;
  resourceType: string;
  critical: boolean;
  /** Routed view: its one audience; task event: every audience it is for. */
  audiences: string[];
  purposeOfUse: string | null;
}

export function subscriptionMatches(s: Pick<Subscription, 'audience' | 'purposeOfUse' | 'events' | 'filter'>, e: MatchableEvent): boolean {
  if (!s.events.some((n) => n === e.eventName || (n.endsWith('*') && e.eventName.startsWith(n.slice(0, -1))))) return false;
  if (e.kind === 'routed') {
    // A routed view is the audience's own projection, permitted for one purpose: never to another audience or purpose.
    if (s.audience === OPERATIONS_AUDIENCE || !e.audiences.includes(s.audience)) return false;
    if (e.purposeOfUse && e.purposeOfUse !== s.purposeOfUse) return false;
  } else if (s.audience !== OPERATIONS_AUDIENCE && !e.audiences.includes(s.audience)) {
    return false;
  }
  const f = s.filter;
  if (f.tiers?.length && !f.tiers.includes(e.tier)) return false;
  if (f.workflows?.length && !f.workflows.some((w) => e.workflows.includes(w))) return false;
  if (f.messageTypes?.length && !f.messageTypes.some((p) => (p.endsWith('*') ? e.messageType.startsWith(p.slice(0, -1)) : p === e.messageType))) return false;
  if (f.resourceTypes?.length && !f.resourceTypes.includes(e.resourceType)) return false;
  if (f.criticalOnly && !e.critical) return false;
  return true;
}

export interface SubscriptionRequest {
  name: string;
  url: string;
  /** undefined → generated (and shown once). */
  secret?: string;
  audience: string;
  purposeOfUse: string;
  events: string[];
  filter: SubscriptionFilter;
  ordering: Ordering;
}

/**
 * Validates a webhook subscription request; every problem is reported at
 * once. Audience and purpose default to the caller's token claims; a caller
 * with neither gets the operations audience (task events only).
 */
export function validateSubscriptionRequest(body: unknown, caller: { audience?: string; purposeOfUse?: string }): SubscriptionRequest {
  const b = (body ?? {}) as Record<string, unknown>;
  const problems: string[] = [];
  const url = typeof b.url === 'string' ? b.url : '';
  if (!url) problems.push('url is required');
  if (b.secret !== undefined) {
    if (typeof b.secret !== 'string') problems.push('secret must be a string');
    else problems.push(...secretProblems(b.secret));
  }
  const audience = (typeof b.audience === 'string' && b.audience) || caller.audience || OPERATIONS_AUDIENCE;
  if (caller.audience && audience !== caller.audience) problems.push(`audience must be the token's audience (${caller.audience})`);
  const purposeOfUse = (typeof b.purposeOfUse === 'string' && b.purposeOfUse) || caller.purposeOfUse || (audience === OPERATIONS_AUDIENCE ? 'HOPERAT' : 'TREAT');
  if (!(PURPOSES_OF_USE as readonly string[]).includes(purposeOfUse)) problems.push(`purposeOfUse must be one of ${PURPOSES_OF_USE.join(', ')}`);
  if (caller.purposeOfUse && purposeOfUse !== caller.purposeOfUse) problems.push(`purposeOfUse must be the token's purpose (${caller.purposeOfUse})`);
  let events = audience === OPERATIONS_AUDIENCE ? ['task.*'] : ['routed', 'task.*'];
  if (b.events !== undefined) {
    if (!Array.isArray(b.events) || !b.events.length || b.events.some((x) => typeof x !== 'string')) problems.push('events must be a non-empty array of strings');
    else {
      events = b.events as string[];
      const known = ['routed', 'task.*', ...TASK_CHANGES.map((c) => `task.${c.toLowerCase()}`)];
      const unknown = events.filter((e) => !known.includes(e));
      if (unknown.length) problems.push(`events: unknown ${unknown.join(', ')} (known: ${known.join(', ')})`);
    }
  }
  if (audience === OPERATIONS_AUDIENCE && events.includes('routed')) problems.push('routed views need a concrete audience (the operations audience receives task events only)');
  const f = (b.filter ?? {}) as Record<string, unknown>;
  const list = (name: string) => {
    const v = f[name];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
      problems.push(`filter.${name} must be an array of strings`);
      return undefined;
    }
    return v as string[];
  };
  const tiers = list('tiers');
  if (tiers?.some((t) => !(TIERS as readonly string[]).includes(t))) problems.push('filter.tiers must contain only stat, urgent, routine, bulk');
  if (f.criticalOnly !== undefined && typeof f.criticalOnly !== 'boolean') problems.push('filter.criticalOnly must be a boolean');
  const ordering = b.ordering ?? 'none';
  if (ordering !== 'none' && ordering !== 'patient') problems.push('ordering must be none or patient');
  if (problems.length) throw new ClinmeshError('SUBSCRIPTION.INVALID', problems.join('; '), { status: 422, details: { problems } });
  const filter: SubscriptionFilter = {
    tiers: tiers as Tier[] | undefined, workflows: list('workflows'), messageTypes: list('messageTypes'), resourceTypes: list('resourceTypes'),
    criticalOnly: f.criticalOnly as boolean | undefined,
  };
  return {
    name: typeof b.name === 'string' && b.name ? b.name : safeHost(url), url, secret: b.secret as string | undefined, audience, purposeOfUse, events, filter,
    ordering: ordering as Ordering,
  };
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'subscription';
  }
}
