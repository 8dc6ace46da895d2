import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UnitOfWork, eventContext, originOf } from '@clinmesh/event-runtime';
import type { CanonicalEvent } from '@clinmesh/schemas';
import { AnalyticsRow } from '../domain/analytics-rows';
import { AnalyticsStorePort } from '../domain/analytics-store.port';
import { EpidChange } from '../domain/identity-change';
import { canonicalEvent, glucose, inbound, observationRecord } from '../testing/canonical-event.builders';
import { RecordCanonicalEventHandler } from './record-canonical-event.handler';

/** In-memory port for the handler's logic (the SQL is proven in the integration spec). */
class InMemoryStore implements AnalyticsStorePort {
  readonly rows = new Map<string, AnalyticsRow>();
  readonly history: AnalyticsRow[] = [];
  async upsert(row: AnalyticsRow): Promise<boolean> {
    const current = this.rows.get(row.canonicalId);
    if (current && (current.eventId === row.eventId || current.recordedAt > row.recordedAt)) return false;
    if (current) this.history.push(current);
    this.rows.set(row.canonicalId, row);
    return true;
  }
  async applyEpidChange(_change: EpidChange): Promise<number> {
    return 0;
  }
}

const noDatabase = new Proxy({}, { get: () => { throw new Error('unit specs use no database'); } }) as UnitOfWork;
const run = (handler: RecordCanonicalEventHandler, event: CanonicalEvent) => handler.handle(event, eventContext(noDatabase, originOf(inbound(event)), []));

describe('RecordCanonicalEventHandler', () => {
  const at = Date.UTC(2024, 2, 1, 9, 30);

  it('stores each record once per event and counts by table', async () => {
    const store = new InMemoryStore();
    const seen: string[] = [];
    const handler = new RecordCanonicalEventHandler(() => store, (table, changed) => seen.push(`${table}:${changed}`));
    const event = canonicalEvent([glucose('obs-a', 100, at), glucose('obs-b', 110, at)]);
    assert.equal(await run(handler, event), 2);
    assert.equal(await run(handler, event), 0);
    assert.deepEqual(seen, ['observations:true', 'observations:true', 'observations:false', 'observations:false']);
  });

  it('a correction replaces the value and keeps the earlier version in the history', async () => {
    const store = new InMemoryStore();
    const handler = new RecordCanonicalEventHandler(() => store);
    await run(handler, canonicalEvent([glucose('obs-c', 182, at)], { eventId: 'e1', recordedAt: 1000 }));
    await run(handler, canonicalEvent([glucose('obs-c', 128, at, { correction: true, status: 'corrected' })], { eventId: 'e2', recordedAt: 2000 }));
    assert.equal(store.rows.get('obs-c')!.columns.value_num, 128);
    assert.equal(store.history.length, 1);
    assert.equal(store.history[0].columns.value_num, 182);
  });

  it('refuses a record without a canonical id', async () => {
    await assert.rejects(run(new RecordCanonicalEventHandler(() => new InMemoryStore()), canonicalEvent([observationRecord({ id: '' })])), /without a canonical id/);
  });
});
