import { TIERS, Tier, tiersAbove } from '@clinmesh/topology';
import { BulkRest } from './bulk-pacing';

/**
 * Tier priority within one service: while `stat` or `urgent` has backlog,
 * `routine` and `bulk` yield (DESIGN.md "Urgency tiers"). Backlog is known per
 * partition from two sources: the tier consumers themselves (fresh, for the
 * partitions this instance holds) and a poller over the group's committed
 * offsets (for partitions not yet fetched or held by another replica).
 */
export class TierGovernor {
  private readonly lag = new Map<Tier, Map<string, number>>(TIERS.map((t) => [t, new Map()]));
  private readonly listeners = new Set<() => void>();
  /** When each tier last had backlog here (epoch ms): pacing (`activeAbove`) looks back over it. */
  private readonly lastBacklog = new Map<Tier, number>();
  /** The rest of this service's paced bulk work, one for all its bulk partitions (bulk-pacing.ts). */
  readonly bulkRest: BulkRest;
  /** Tiers that yield to higher ones. stat never yields; urgent yields only to stat. */
  constructor(private readonly yieldingTiers: ReadonlySet<Tier> = new Set(['routine', 'bulk']), now: () => number = Date.now) {
    this.bulkRest = new BulkRest(now);
  }

  report(tier: Tier, partitionKey: string, lag: number, now = Date.now()): void {
    if (lag > 0) this.lastBacklog.set(tier, now);
    const before = this.hasBacklogAbove('bulk');
    this.lag.get(tier)!.set(partitionKey, Math.max(0, lag));
    if (before && !this.hasBacklogAbove('bulk')) this.notifyClear();
  }

  forget(tier: Tier, partitionKey: string): void {
    this.report(tier, partitionKey, 0);
    this.lag.get(tier)!.delete(partitionKey);
  }

  backlog(tier: Tier): number {
    let sum = 0;
    for (const v of this.lag.get(tier)!.values()) sum += v;
    return sum;
  }

  /** Whether `tier` ever yields to higher tiers. */
  yields(tier: Tier): boolean {
    return this.yieldingTiers.has(tier);
  }

  mustYield(tier: Tier): boolean {
    if (!this.yieldingTiers.has(tier)) return false;
    return this.hasBacklogAbove(tier);
  }

  /**
   * Whether stat or urgent had backlog here within the last `withinMs`: bulk paces itself then
   * (event-consumer.ts). Yielding alone stops bulk only while a stat event is in this service; the
   * CPU bulk keeps using in between is what a stat event meets in the next service, on two cores.
   */
  activeAbove(tier: Tier, withinMs: number, now = Date.now()): boolean {
    return tiersAbove(tier).filter((t) => t === 'stat' || t === 'urgent').some((t) => now - (this.lastBacklog.get(t) ?? -Infinity) <= withinMs);
  }

  /** Called when no higher tier has backlog any more, so paused tiers resume. */
  onClear(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private hasBacklogAbove(tier: Tier): boolean {
    return tiersAbove(tier).filter((t) => t === 'stat' || t === 'urgent').some((t) => this.backlog(t) > 0);
  }

  private notifyClear(): void {
    for (const l of this.listeners) l();
  }
}
