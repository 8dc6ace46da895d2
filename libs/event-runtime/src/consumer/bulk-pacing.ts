/**
 * Bulk pacing: while stat or urgent work was seen within `withinMs`, bulk work is cut into small
 * pieces (at most `chunkSize` events: a consumer's chunk, ingest's group of a batch file) and
 * pauses after each so that it takes at most `share` of the time. `share` 1 turns it off. Shared
 * by the consumers (event-consumer.ts) and ingest's batch-file intake, so both give way by the
 * same rule.
 *
 * Why the small pieces: a bulk chunk is one transaction on the service's one event loop. At the
 * unpaced size (200 events, 0.3–0.6 s of work) a stat event arriving meanwhile waited for the rest
 * of it at every hop; measured under a 20,000-message flood, a stat event spent p50 30–60 ms per
 * hop between its transaction's start and its publication, against ~10 ms idle.
 */
export interface BulkPacing {
  share: number;
  withinMs: number;
  maxPauseMs: number;
  /** Most events in one piece of bulk work while paced. */
  chunkSize: number;
}

/**
 * Share 0.1: under a 10,000-message bulk flood with a stat probe every 200 ms, stat end to end
 * was p50/p99 518/918 ms at 0.25 and 224/435 at 0.1 (same run setup, one broker): at 0.25 six
 * services' bulk still filled both cores.
 */
export const DEFAULT_BULK_PACING: BulkPacing = { share: 0.1, withinMs: 1000, maxPauseMs: 1000, chunkSize: 10 };

/** The pause after a piece of bulk work that took `workMs`: workMs × (1 − share) / share, at most `maxPauseMs`. */
export function bulkPauseMs(workMs: number, pacing: BulkPacing): number {
  if (pacing.share >= 1) return 0;
  return Math.min(pacing.maxPauseMs, Math.round((workMs * (1 - pacing.share)) / Math.max(0.01, pacing.share)));
}

/** The size of the next piece of bulk work while paced: `size`, cut to the paced `chunkSize` (never below 1). */
export function pacedChunkSize(size: number, pacing: BulkPacing): number {
  if (pacing.share >= 1) return size;
  return Math.max(1, Math.min(size, pacing.chunkSize));
}

/**
 * When stat or urgent work was last seen by one intake (ingest's batch files, the notifier's
 * delivery claims), and whether that was within a pacing window: the one rule both follow.
 */
export class PriorityActivity {
  private lastAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly now: () => number = Date.now) {}

  /** Work of `tier` was seen: stat and urgent count. */
  seen(tier: string | undefined): void {
    if (tier === 'stat' || tier === 'urgent') this.lastAt = this.now();
  }

  within(ms: number): boolean {
    return this.now() - this.lastAt <= ms;
  }
}
