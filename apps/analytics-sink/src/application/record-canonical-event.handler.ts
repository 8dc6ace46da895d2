import { EventContext } from '@clinmesh/event-runtime';
import { ClinmeshError } from '@clinmesh/errors';
import type { CanonicalEvent } from '@clinmesh/schemas';
import { analyticsRowsOf } from '../domain/analytics-rows';
import { AnalyticsStorePort } from '../domain/analytics-store.port';

/**
 * canonical event → its records as analytics rows, upserted by canonical id inside the
 * consumer's transaction (inbox, stored offset and rows commit together): a redelivery changes
 * nothing, a correction replaces the earlier version and keeps it in the history, a replay from
 * earliest converges on the same tables.
 */
export class RecordCanonicalEventHandler {
  constructor(
    private readonly store: (ctx: EventContext) => AnalyticsStorePort,
    private readonly observed: (table: string, changed: boolean) => void = () => undefined,
  ) {}

  async handle(event: CanonicalEvent, ctx: EventContext): Promise<number> {
    const rows = analyticsRowsOf(event);
    const missing = rows.filter((r) => !r.canonicalId);
    // Not retriable: dead-lettered with this reason; the partition moves on.
    if (missing.length) throw new ClinmeshError('ANALYTICS.RECORD_WITHOUT_ID', `canonical event ${event.eventId} has ${missing.length} record(s) without a canonical id (${[...new Set(missing.map((r) => r.table))].join(', ')})`);
    const store = this.store(ctx);
    let changed = 0;
    for (const row of rows) {
      const did = await store.upsert(row);
      this.observed(row.table, did);
      if (did) changed += 1;
    }
    return changed;
  }
}
