/**
 * Bulk pacing: while stat or urgent work was seen within `withinMs`, bulk work pauses after each
 * piece (a consumer's chunk, ingest's group of a batch file) so that it takes at most `share` of
 * the time. `share` 1 turns it off. Shared by the consumers (event-consumer.ts) and ingest's
 * batch-file intake, so both give way by the same rule.
 */
export interface BulkPacing {
  share: number;
  withinMs: number;
  maxPauseMs: number;
}

export const DEFAULT_BULK_PACING: BulkPacing = { share: 0.25, withinMs: 1000, maxPauseMs: 1000 };

/** The pause after a piece of bulk work that took `workMs`: workMs × (1 − share) / share, at most `maxPauseMs`. */
export function bulkPauseMs(workMs: number, pacing: BulkPacing): number {
  if (pacing.share >= 1) return 0;
  return Math.min(pacing.maxPauseMs, Math.round((workMs * (1 - pacing.share)) / Math.max(0.01, pacing.share)));
}
