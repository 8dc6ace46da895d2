import { BulkPacing, PriorityActivity, bulkPauseMs } from '@clinmesh/event-runtime';
import type { Tier } from '@clinmesh/topology';

/**
 * Bulk webhook deliveries give way to stat and urgent work, by the consumers' bulk pacing rule
 * (event-runtime `bulk-pacing.ts`).
 *
 * Why: during a bulk flood the delivery worker was the busiest part of the system — measured on
 * two cores under a 10,000-message flood, the notifier and its database took ~22 of every 60
 * CPU-seconds, most of it sending and recording bulk deliveries — and a stat event met that CPU
 * at every hop before its own webhook. Claims already take the most urgent tier first; that
 * does not stop bulk from filling the worker's remaining slots.
 *
 * While stat or urgent work was seen within `withinMs` (a stat/urgent delivery claimed here, or
 * the service's consumers had stat/urgent backlog), bulk deliveries are claimed in rounds of at
 * most `chunkSize`; when a round's last attempt has finished, bulk is held for the round's time
 * × (1 − share) / share. Stat, urgent and routine deliveries are never held.
 */
export class BulkDeliveryPacer {
  private readonly priority: PriorityActivity;
  private holdUntil = 0;
  private round: { startedAt: number; inFlight: number } | null = null;

  constructor(
    private readonly pacing: BulkPacing,
    /** Whether the service's consumers had stat or urgent backlog within `withinMs` (the runtime's tier governor). */
    private readonly priorityActiveElsewhere: (withinMs: number) => boolean = () => false,
    private readonly now: () => number = Date.now,
  ) {
    this.priority = new PriorityActivity(now);
  }

  /** How many bulk deliveries the next claim may take: unbounded, a round's size, or 0 (held). */
  bulkAllowance(): number {
    if (!this.paced()) return Number.POSITIVE_INFINITY;
    if (this.round || this.now() < this.holdUntil) return 0;
    return Math.max(1, this.pacing.chunkSize);
  }

  /** Milliseconds until bulk may be claimed again (0: not held). */
  holdRemainingMs(): number {
    return this.round ? 0 : Math.max(0, this.holdUntil - this.now());
  }

  /** Deliveries were claimed: stat/urgent ones mark priority work; bulk ones open (or join) the round. */
  claimed(tiers: ReadonlyArray<Tier | string>): number {
    let bulk = 0;
    for (const tier of tiers) {
      this.priority.seen(tier);
      if (tier === 'bulk') bulk++;
    }
    if (bulk > 0) {
      this.round ??= { startedAt: this.now(), inFlight: 0 };
      this.round.inFlight += bulk;
    }
    return bulk;
  }

  /** A bulk attempt finished; the round's last one sets the hold (only while paced). */
  bulkFinished(): void {
    if (!this.round) return;
    if (--this.round.inFlight > 0) return;
    const took = this.now() - this.round.startedAt;
    this.round = null;
    this.holdUntil = this.paced() ? this.now() + bulkPauseMs(took, this.pacing) : 0;
  }

  private paced(): boolean {
    if (this.pacing.share >= 1) return false;
    return this.priority.within(this.pacing.withinMs) || this.priorityActiveElsewhere(this.pacing.withinMs);
  }
}
