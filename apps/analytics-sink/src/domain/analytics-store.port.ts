import { AnalyticsRow } from './analytics-rows';
import { EpidChange } from './identity-change';

export interface AnalyticsStorePort {
  /**
   * Inserts the row, or replaces the stored version with the same canonical id — keeping the
   * replaced version in the history — unless the stored one is the same event or newer.
   * Returns whether the table changed.
   */
  upsert(row: AnalyticsRow): Promise<boolean>;
  /** Re-points rows between EPIDs after a merge or an unmerge. Returns the rows changed. */
  applyEpidChange(change: EpidChange): Promise<number>;
}
