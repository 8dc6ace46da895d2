/**
 * Urgency tiers, highest first. Every pipeline stage has one topic per tier so
 * a backlog in one tier can never delay another (DESIGN.md "Urgency tiers").
 */
export const TIERS = ['stat', 'urgent', 'routine', 'bulk'] as const;
export type Tier = (typeof TIERS)[number];

export const TIER_RANK: Readonly<Record<Tier, number>> = { stat: 0, urgent: 1, routine: 2, bulk: 3 };

export function isTier(value: unknown): value is Tier {
  return typeof value === 'string' && (TIERS as readonly string[]).includes(value);
}

/** Tiers may be raised by later stages, never silently lowered. */
export function higherTier(a: Tier, b: Tier): Tier {
  return TIER_RANK[a] <= TIER_RANK[b] ? a : b;
}

/** Tiers strictly more urgent than `tier` (the ones it yields to). */
export function tiersAbove(tier: Tier): Tier[] {
  return TIERS.filter((t) => TIER_RANK[t] < TIER_RANK[tier]);
}
