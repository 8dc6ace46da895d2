import { Tier } from '@clinmesh/topology';

/** Time allowed to act on a task, by tier (SLA timers escalate against this). */
export const SLA_MS: Readonly<Record<Tier, number>> = {
  stat: 15 * 60_000,
  urgent: 4 * 3_600_000,
  routine: 24 * 3_600_000,
  bulk: 7 * 24 * 3_600_000,
};

export function dueAt(tier: Tier, from: number): number {
  return from + SLA_MS[tier];
}
