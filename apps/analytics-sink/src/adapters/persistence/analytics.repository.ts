import { UnitOfWork } from '@clinmesh/event-runtime';
import { ANALYTICS_COLUMNS, ANALYTICS_TABLES, AnalyticsRow } from '../../domain/analytics-rows';
import { AnalyticsStorePort } from '../../domain/analytics-store.port';
import { EpidChange } from '../../domain/identity-change';

const COMMON = ['canonical_id', 'epid', 'source_epid', 'event_id', 'tier', 'change_type', 'correction', 'recorded_at', 'source_system', 'version', 'record'] as const;

/**
 * All SQL of the analytics sink on the `analytics` schema. Table and column names come only
 * from ANALYTICS_TABLES / ANALYTICS_COLUMNS (constants), values are always parameters.
 */
export class AnalyticsRepository implements AnalyticsStorePort {
  constructor(private readonly uow: UnitOfWork) {}

  async upsert(row: AnalyticsRow): Promise<boolean> {
    const table = `analytics.${row.table}`;
    const own = ANALYTICS_COLUMNS[row.table];
    const recordedAt = new Date(row.recordedAt).toISOString();
    // Versions are ordered by (recorded_at, event_id): the final row does not depend on the order
    // events arrive in across tiers (a replay converges on the same tables). The version being
    // replaced goes to the history first (same transaction).
    await this.uow.execute(
      `INSERT INTO analytics.record_history (table_name, canonical_id, version, event_id, recorded_at, superseded_by_event_id, row)
       SELECT $1, t.canonical_id, t.version, t.event_id, t.recorded_at, $3, to_jsonb(t) FROM ${table} t
       WHERE t.canonical_id = $2 AND (t.recorded_at, t.event_id) < ($4::timestamptz, $3)
       ON CONFLICT DO NOTHING`,
      [row.table, row.canonicalId, row.eventId, recordedAt],
    );
    const columns = [...COMMON, ...own];
    const values: unknown[] = [
      row.canonicalId, row.epid, row.epid, row.eventId, row.tier, row.changeType, row.correction, recordedAt, row.sourceSystem, 1, JSON.stringify(row.record),
      ...own.map((c) => row.columns[c] ?? null),
    ];
    const placeholders = columns.map((c, i) => (c === 'epid'
      // A record arriving under an EPID that was merged away goes to the survivor.
      ? `COALESCE((SELECT surviving_epid FROM analytics.epid_merges WHERE merged_epid = $${i + 1}), $${i + 1})`
      : c === 'record' ? `$${i + 1}::jsonb` : `$${i + 1}`));
    const updates = columns.filter((c) => c !== 'canonical_id' && c !== 'version').map((c) => `${c} = EXCLUDED.${c}`);
    const n = await this.uow.execute(
      `INSERT INTO ${table} AS t (${columns.join(', ')}) VALUES (${placeholders.join(', ')})
       ON CONFLICT (canonical_id) DO UPDATE SET ${updates.join(', ')}, version = t.version + 1
       WHERE (t.recorded_at, t.event_id) < (EXCLUDED.recorded_at, EXCLUDED.event_id)`,
      values,
    );
    return n > 0;
  }

  async applyEpidChange(change: EpidChange): Promise<number> {
    let changed = 0;
    if (change.kind === 'merge') {
      await this.uow.execute(
        `INSERT INTO analytics.epid_merges (merged_epid, surviving_epid, event_id, merged_at) VALUES ($1, $2, $3, to_timestamp($4 / 1000.0))
         ON CONFLICT (merged_epid) DO UPDATE SET surviving_epid = EXCLUDED.surviving_epid, event_id = EXCLUDED.event_id, merged_at = EXCLUDED.merged_at`,
        [change.merged, change.surviving, change.eventId, change.at],
      );
      // Chains: whoever had been merged into the merged person now points to the survivor.
      await this.uow.execute('UPDATE analytics.epid_merges SET surviving_epid = $2 WHERE surviving_epid = $1', [change.merged, change.surviving]);
      for (const t of ANALYTICS_TABLES) {
        changed += await this.uow.execute(`UPDATE analytics.${t} SET epid = $2 WHERE epid = $1 OR (source_epid = $1 AND epid <> $2)`, [change.merged, change.surviving]);
      }
    } else {
      await this.uow.execute('DELETE FROM analytics.epid_merges WHERE merged_epid = $1', [change.restored]);
      for (const t of ANALYTICS_TABLES) {
        changed += await this.uow.execute(`UPDATE analytics.${t} SET epid = source_epid WHERE source_epid = $1 AND epid <> source_epid`, [change.restored]);
      }
    }
    return changed;
  }
}
