import { Tier, isTier } from '@clinmesh/topology';

/** A runtime setting given once for every tier, or per tier (e.g. fetch waits, gather windows). */
export type TierSetting = number | Partial<Record<Tier, number>>;

/** The setting's value for `tier`: the one number, else the tier's own, else `fallback`. */
export function tierValue(setting: TierSetting | undefined, tier: Tier, fallback: number): number {
  if (typeof setting === 'number') return setting;
  return isTier(tier) ? setting?.[tier] ?? fallback : fallback;
}

/** A per-tier setting over its defaults: a number replaces them all, a per-tier one overrides only the tiers it names. */
export function withTierDefaults(defaults: Readonly<Record<Tier, number>>, given: TierSetting | undefined): TierSetting {
  return typeof given === 'number' ? given : { ...defaults, ...given };
}
