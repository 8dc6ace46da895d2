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
 *
 * Chunks of 4 while paced (consumers; ingest's batch-file groups keep their own 10): with one rest
 * per service, in the same setup, stat under the flood was p99 500 / 450 / 456 ms at 4 against
 * 694 / 871 / 1,061 at 10 and 843 at 2 (a transaction per two events), for as much bulk work done.
 */
export const DEFAULT_BULK_PACING: BulkPacing = { share: 0.1, withinMs: 1000, maxPauseMs: 1000, chunkSize: 4 };

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

/** How long the first paced piece holds the others, before any piece's time is known. */
const FIRST_HOLD_MS = 50;

/**
 * The one rest of a service's bulk work while paced, shared by every bulk partition of every
 * consumer of the service (the tier governor holds it). A pause per partition bounded nothing:
 * a bulk topic has 16 partitions, and while one rested after its chunk the next ran one, so under
 * a flood bulk kept nearly all of the time. Measured on a 10,000-message flood with a stat probe
 * every 200 ms, the notifier had consumed 18,405 of 20,000 bulk events by the probe's end.
 */
export class BulkRest {
  private until = 0;
  /** The last piece's work and rest: how long a piece starting now is expected to hold the others. */
  private lastCycleMs = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** How long bulk work must still wait, in ms (0: it may run). */
  remainingMs(): number {
    return Math.max(0, this.until - this.now());
  }

  /**
   * A piece of bulk work starts. Partitions are consumed concurrently, so the others are held from
   * now, for as long as the last piece took with its rest (before any piece ended, `FIRST_HOLD_MS`),
   * not only once this one has ended.
   */
  begin(): void {
    this.until = Math.max(this.until, this.now() + (this.lastCycleMs || FIRST_HOLD_MS));
  }

  /** A piece of bulk work that took `workMs` ended: rest `pauseMs` from now (a longer rest already set stays). */
  rest(workMs: number, pauseMs: number): void {
    this.lastCycleMs = workMs + pauseMs;
    this.until = Math.max(this.until, this.now() + pauseMs);
  }
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
