import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataSource } from 'typeorm';
import { EventContext, EventOrigin, EventRuntimeTables1732200000000, OutgoingEvent, UnitOfWork, eventContext, inTransaction } from '@clinmesh/event-runtime';
import type { RoutedEvent } from '@clinmesh/schemas';
import { MigratedDatabases, testEnvironment } from '@clinmesh/testing';
import { PolicyHeldViews1764390000000, PolicyRejections1764380000000, PolicyTables1764370000000 } from '../adapters/persistence/policy.tables';
import { policyStores } from '../adapters/persistence/policy.repositories';
import { HeldViewRelease } from './held-views';
import type { HeldView } from './ports';

const NOW = Date.parse('2026-11-30T12:00:00Z');

/**
 * The runtime's `inTransactionEach` on the test database (one transaction, one context per origin, one
 * sink), keeping what the transactions emitted and counting their statements instead of writing an outbox.
 */
function recordingRuntime(db: DataSource) {
  const emitted: OutgoingEvent[] = [];
  const counts = { transactions: 0, statements: 0 };
  return {
    emitted,
    counts,
    inTransactionEach<T>(origins: readonly EventOrigin[], work: (contexts: EventContext[]) => Promise<T>): Promise<T> {
      counts.transactions++;
      return inTransaction(db, async (raw: UnitOfWork) => {
        const uow: UnitOfWork = {
          ...raw,
          query: <R,>(sql: string, params?: unknown[]) => { counts.statements++; return raw.query<R>(sql, params); },
          execute: (sql: string, params?: unknown[]) => { counts.statements++; return raw.execute(sql, params); },
        };
        const sink: OutgoingEvent[] = [];
        const value = await work(origins.map((origin) => eventContext(uow, origin, sink)));
        emitted.push(...sink);
        return value;
      });
    },
  };
}

function heldView(n: number, releaseInMs: number): HeldView {
  const value = { eventId: `routed-${n}`, correlationId: `corr-${n}`, causationId: `canonical-${n}`, audience: 'integration-subscribers' } as unknown as RoutedEvent;
  return {
    routedEventId: `routed-${n}`, decisionId: `decision-${n}`, audience: 'integration-subscribers', topic: 'clinical.routed.integration-subscribers.routine',
    key: `EP-${n % 5}`, tier: 'routine', value, releaseAt: new Date(NOW + releaseInMs),
  };
}

describe('held routed views: released in batches, each view under its own origin', { timeout: 120_000 }, () => {
  const databases = new MigratedDatabases(testEnvironment(), [EventRuntimeTables1732200000000, PolicyTables1764370000000, PolicyRejections1764380000000, PolicyHeldViews1764390000000]);
  let db: DataSource;
  before(async () => {
    db = await databases.create('pl_held_release');
  });
  after(() => databases.dropAll());

  it('every due view is published once, unchanged, under its routed event id and origin, a batch per transaction; views not yet due stay held', async () => {
    const views = [...Array.from({ length: 25 }, (_, i) => heldView(i, -60_000 + i)), ...Array.from({ length: 5 }, (_, i) => heldView(100 + i, 60_000))];
    await policyStores(db).held.hold(views);
    const runtime = recordingRuntime(db);
    const released: string[] = [];
    const release = new HeldViewRelease(runtime, db, policyStores, { released: (audience) => released.push(audience) }, () => NOW);

    assert.equal(await release.releaseDue(undefined, 10), 25);
    assert.deepEqual(runtime.emitted.map((e) => e.meta.eventId), views.slice(0, 25).map((v) => v.routedEventId), 'oldest first, each once');
    for (const [i, e] of runtime.emitted.entries()) {
      assert.deepEqual(e.value, views[i].value, 'the view as it was decided');
      assert.equal(e.topic, views[i].topic);
      assert.equal(e.key, views[i].key);
      assert.equal(e.meta.correlationId, `corr-${i}`, 'its own correlation');
      assert.equal(e.meta.causationId, `canonical-${i}`, 'caused by its canonical event');
    }
    assert.equal(released.length, 25, 'each release observed once');
    assert.equal(runtime.counts.transactions, 3, 'batches of 10: 10, 10 and 5');
    assert.equal(runtime.counts.statements, 6, 'a claim and a mark per batch, whatever its size');
    assert.equal(await policyStores(db).held.pendingCount(), 5, 'the views not yet due are still held');

    assert.equal(await release.releaseDue(undefined, 10), 0, 'a second pass releases nothing again');
    assert.equal(runtime.emitted.length, 25);
  });

  it('a view another instance holds locked is skipped, and released by a later pass once it is free', async () => {
    const views = Array.from({ length: 4 }, (_, i) => heldView(200 + i, -1_000));
    await policyStores(db).held.hold(views);
    const runtime = recordingRuntime(db);
    const release = new HeldViewRelease(runtime, db, policyStores, undefined, () => NOW);
    // Another instance is releasing routed-201 (its transaction holds the row lock).
    const other = db.createQueryRunner();
    await other.connect();
    await other.startTransaction();
    await other.query(`SELECT 1 FROM pl_held_view WHERE routed_event_id = 'routed-201' FOR UPDATE`);
    try {
      assert.equal(await release.releaseDue(undefined, 10), 3);
      assert.deepEqual(runtime.emitted.map((e) => e.meta.eventId), ['routed-200', 'routed-202', 'routed-203']);
    } finally {
      await other.rollbackTransaction();
      await other.release();
    }
    assert.equal(await release.releaseDue(undefined, 10), 1, 'the other instance gave it up: released now');
    assert.deepEqual(runtime.emitted.map((e) => e.meta.eventId), ['routed-200', 'routed-202', 'routed-203', 'routed-201']);
  });
});
