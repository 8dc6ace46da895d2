import { ClinmeshError } from '@clinmesh/errors';
import { TIERS, Tier } from '@clinmesh/topology';

export interface SubscriptionFilter {
  tiers?: Tier[];
  workflows?: string[];
  /** `ADT^*` style prefixes allowed. */
  messageTypes?: string[];
  audiences?: string[];
}

export interface Subscription {
  id: string;
  name: string;
  url: string;
  filter: SubscriptionFilter;
  active: boolean;
  createdAt: string;
}

/** What a subscription is matched against: the task event, without PHI. */
export interface DeliverableEvent {
  tier: Tier;
  workflow: string;
  messageType: string;
  audiences: string[];
}

export function subscriptionMatches(filter: SubscriptionFilter, event: DeliverableEvent): boolean {
  if (filter.tiers?.length && !filter.tiers.includes(event.tier)) return false;
  if (filter.workflows?.length && !filter.workflows.includes(event.workflow)) return false;
  if (filter.messageTypes?.length && !filter.messageTypes.some((p) => (p.endsWith('*') ? event.messageType.startsWith(p.slice(0, -1)) : p === event.messageType))) return false;
  if (filter.audiences?.length && !filter.audiences.some((a) => event.audiences.includes(a))) return false;
  return true;
}

/** Validates a subscription request; every problem is reported at once. */
export function validateSubscriptionRequest(body: unknown): { name: string; url: string; secret: string; filter: SubscriptionFilter } {
  const b = (body ?? {}) as Record<string, unknown>;
  const problems: string[] = [];
  let url: URL | undefined;
  try {
    url = new URL(String(b.url));
    if (!['http:', 'https:'].includes(url.protocol)) problems.push('url must be http or https');
    if (url.username || url.password) problems.push('url must not carry credentials; use the secret');
  } catch {
    problems.push('url must be an absolute URL');
  }
  if (typeof b.secret !== 'string' || b.secret.length < 16) problems.push('secret must be a string of at least 16 characters');
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
  const filter: SubscriptionFilter = { tiers: tiers as Tier[] | undefined, workflows: list('workflows'), messageTypes: list('messageTypes'), audiences: list('audiences') };
  if (problems.length) throw new ClinmeshError('SUBSCRIPTION.INVALID', problems.join('; '), { status: 422, details: { problems } });
  return { name: typeof b.name === 'string' ? b.name : url!.host, url: url!.toString(), secret: b.secret as string, filter };
}
