import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataSource } from 'typeorm';
import { isRetriable } from '@clinmesh/errors';
import { EventRuntimeTables1732200000000, EventContext, InboundEvent, OutgoingEvent, UnitOfWork, eventContext, inTransaction, originOf } from '@clinmesh/event-runtime';
import type { IdentityEvent, RoutedEvent } from '@clinmesh/schemas';
import { Tier } from '@clinmesh/topology';
import { MigratedDatabases, testEnvironment } from '@clinmesh/testing';
import { BUILT_IN_CALENDAR, BUILT_IN_WORKFLOWS } from '../../config/built-in-workflows';
import { loadWorkflowData } from '../../config/task.config';
import { SlaPolicy } from '../../domain/sla/sla';
import { TaskStore } from '../../domain/task.ports';
import { NO_OBSERVER } from '../../application/task-observer';
import { TaskLifecycle } from '../../application/task-lifecycle';
import { OpenRoutedTasksHandler } from '../../application/open-routed-tasks.handler';
import { IdentityEventsHandler } from '../../application/work-queue.handlers';
import { TaskChunkStore } from './task-chunk.store';
import { PgTaskStore } from './task.store';
import { TaskTable1732200004000, TaskWorkflows1764400000000 } from './task.migrations';

const { catalog, calendar } = loadWorkflowData(BUILT_IN_WORKFLOWS, BUILT_IN_CALENDAR);
const receivedAt = Date.UTC(2026, 10, 21, 8, 0);

interface RoutedSpec {
  eventId: string; canonicalId: string; epid: string; correlationId: string; workflows: string[];
  audience?: string; tier?: Tier; correction?: boolean; value?: number; deidentified?: boolean;
}

function routed(o: RoutedSpec): InboundEvent<RoutedEvent> {
  const tier = o.tier ?? 'stat';
  const observation = {
    id: o.canonicalId, changeType: 'CREATE', correction: o.correction ?? false, status: o.correction ? 'corrected' : 'final',
    code: { codings: [{ system: 'http://loinc.org', code: '2823-3', display: 'Potassium' }], text: 'Potassium' },
    valueQuantity: { value: o.value ?? 6.9, unit: 'mmol/L' }, interpretation: [{ code: 'HH' }], issued: { instant: receivedAt - 60_000 },
  };
  const value = {
    eventId: o.eventId, correlationId: o.correlationId, causationId: `canon-${o.correlationId}`, epid: o.epid, tier, audience: o.audience ?? 'care-team',
    deidentified: o.deidentified ?? false, decisionId: `dec-${o.correlationId}`,
    decision: { policyVersion: 'v1', ruleIds: ['r'], workflows: o.workflows, audiences: ['care-team', 'critical-result-oncall'], originalTier: tier, explanation: 'critical potassium' },
    canonical: {
      eventId: `canon-${o.correlationId}`, correlationId: o.correlationId, causationId: 'id-1', epid: o.epid, tier, changeType: 'CREATE', occurredAt: null, supersedesEventId: null,
      recordedAt: receivedAt, receivedAt, source: { system: 'LAB', facility: 'H', channel: 'MLLP' }, resourceType: 'Observation', canonicalId: o.canonicalId, document: '{}',
      provenance: { sourceSystem: 'LAB', messageId: o.correlationId, sourceFormat: 'HL7V2', sourceMessageType: 'ORU^R01', mappingVersion: 'x', sourceFields: [] },
      records: { observations: [observation] },
    },
  } as unknown as RoutedEvent;
  return { eventId: o.eventId, correlationId: o.correlationId, tier, topic: `clinical.routed.${tier}`, partition: 0, offset: 1, key: o.epid, headers: {}, schemaId: 1, value };
}

function identityEvent(eventId: string, type: string, epid: string, o: { otherEpid?: string; reviewItemId?: string; resolution?: string } = {}): InboundEvent<IdentityEvent> {
  const value = {
    eventId, correlationId: `c-${eventId}`, type, epid, otherEpid: o.otherEpid ?? null, recordKey: 'k', method: 'ADT^A40', score: o.reviewItemId ? 0.8 : null,
    reviewItemId: o.reviewItemId ?? null, resolution: o.resolution ?? null, at: receivedAt,
  };
  return { eventId, correlationId: value.correlationId, tier: 'urgent', topic: 'clinical.identity.events', partition: 0, offset: 1, key: epid, headers: {}, schemaId: 1, value: value as unknown as IdentityEvent };
}
const merged = (eventId: string, survivor: string, mergedAway: string) => identityEvent(eventId, 'PERSONS_MERGED', survivor, { otherEpid: mergedAway });

type AnyEvent = InboundEvent<RoutedEvent> | InboundEvent<IdentityEvent>;
const isRouted = (e: AnyEvent): e is InboundEvent<RoutedEvent> => e.topic.startsWith('clinical.routed.');

/** A uow whose statements are counted. */
function counting(uow: UnitOfWork, counter: { n: number }): UnitOfWork {
  return {
    manager: uow.manager,
    afterCommit: (callback) => uow.afterCommit(callback),
    // Deferred writes ride on the transaction's closing statement: not a round trip of their own.
    deferWrite: (sql, params) => uow.deferWrite(sql, params),
    query: <T>(sql: string, params?: unknown[]) => { counter.n++; return uow.query<T>(sql, params); },
    execute: (sql: string, params?: unknown[]) => { counter.n++; return uow.execute(sql, params); },
  };
}

/** Handlers over one store kind, with a clock of their own that ticks a millisecond per read (the same sequence in every run). */
function handlers(store: (ctx: EventContext) => TaskStore) {
  let tick = 0;
  const lifecycle = new TaskLifecycle(catalog, new SlaPolicy(calendar), NO_OBSERVER, () => receivedAt + 60_000 + tick++);
  const routedHandler = new OpenRoutedTasksHandler(lifecycle, store);
  const identity = new IdentityEventsHandler(lifecycle, store);
  return {
    lifecycle, routedHandler,
    handle: (e: AnyEvent, ctx: EventContext) => (isRouted(e) ? routedHandler.handle(e, ctx) : identity.handle(e as InboundEvent<IdentityEvent>, ctx)),
  };
}

const TABLES = {
  tk_task: 'SELECT * FROM tk_task ORDER BY task_id',
  tk_task_history: 'SELECT * FROM tk_task_history ORDER BY seq',
  tk_task_event: 'SELECT * FROM tk_task_event ORDER BY event_id',
};

/**
 * Task's routed path written set-based per chunk (TaskChunkStore) on real PostgreSQL: a chunk in
 * one transaction — prepare, the handlers in order, complete, as the runtime runs it — must leave
 * the rows and emit the task events that the same events handled one per transaction through the
 * per-statement PgTaskStore leave and emit; and it must do so in a number of statements that does
 * not grow with the chunk.
 */
describe('task chunk store on PostgreSQL', { timeout: 180_000 }, () => {
  const env = testEnvironment();
  const databases = new MigratedDatabases(env, [EventRuntimeTables1732200000000, TaskTable1732200004000, TaskWorkflows1764400000000]);
  const database = (label: string) => databases.create(label);

  /** The reference: one transaction per event through the per-statement store. */
  const oneByOne = async (db: DataSource, h: ReturnType<typeof handlers>, events: AnyEvent[], sink: OutgoingEvent[], counter = { n: 0 }) => {
    for (const e of events) await inTransaction(db, (uow) => h.handle(e, eventContext(counting(uow, counter), originOf(e), sink)));
  };
  /** As the runtime runs a chunk with the chunk store: prepare (routed events), the handlers in order, complete — one transaction. */
  const chunk = (db: DataSource, h: ReturnType<typeof handlers>, events: AnyEvent[], sink: OutgoingEvent[], counter = { n: 0 }) => inTransaction(db, async (raw) => {
    const uow = counting(raw, counter);
    await TaskChunkStore.of(uow).preload(h.routedHandler.needs(events.filter(isRouted)));
    for (const e of events) await h.handle(e, eventContext(uow, originOf(e), sink));
    await TaskChunkStore.of(uow).flush();
  });
  const perStatement = (ctx: EventContext) => new PgTaskStore(ctx.uow);
  const chunked = (ctx: EventContext) => TaskChunkStore.of(ctx.uow);
  const snapshot = async (db: DataSource) => Object.fromEntries(await Promise.all(Object.entries(TABLES).map(async ([t, sql]) => [t, await db.query(sql)] as const)));
  const emitted = (sink: OutgoingEvent[]) => sink.map((e) => ({ topic: e.topic, key: e.key, eventId: e.meta.eventId, tier: e.meta.tier, value: e.value }));

  /** Tasks that exist before the chunk: obs-1 (EP1) open, obs-2 (EP2) closed, obs-3 (EP3) open; and obs-10… for the statement counts. */
  const seed = [
    routed({ eventId: 's1', canonicalId: 'obs-1', epid: 'EP1', correlationId: 'm1', workflows: ['critical-result-review'] }),
    routed({ eventId: 's2', canonicalId: 'obs-2', epid: 'EP2', correlationId: 'm2', workflows: ['result-review'], tier: 'urgent' }),
    routed({ eventId: 's3', canonicalId: 'obs-3', epid: 'EP3', correlationId: 'm3', workflows: ['admission-notice'], tier: 'routine' }),
  ];
  async function seeded(label: string): Promise<DataSource> {
    const db = await database(label);
    await oneByOne(db, handlers(perStatement), seed, []);
    // obs-2's task was completed by its clinician.
    await db.query(`UPDATE tk_task SET state = 'completed', status = 'completed', business_status = 'reviewed', next_timer_at = NULL, completed_at = $1 WHERE canonical_id = 'obs-2'`,
      [new Date(receivedAt + 5 * 60_000).toISOString()]);
    return db;
  }

  let reference: DataSource;
  let actual: DataSource;
  before(async () => {
    [reference, actual] = [await seeded('tk_chunk_ref'), await seeded('tk_chunk_set')];
  });
  after(() => databases.dropAll());

  it('one chunk leaves the same rows and emits the same task events as one event per transaction through PgTaskStore', async () => {
    const events: AnyEvent[] = [
      // A correction of obs-1 (task open in the table), two audience copies: it amends that task.
      routed({ eventId: 'c1-care', canonicalId: 'obs-1', epid: 'EP1', correlationId: 'm1b', workflows: ['critical-result-review'], correction: true, value: 7.4 }),
      routed({ eventId: 'c1-oncall', canonicalId: 'obs-1', epid: 'EP1', correlationId: 'm1b', workflows: ['critical-result-review'], correction: true, value: 7.4, audience: 'critical-result-oncall' }),
      // A correction of obs-2 (task closed): a new task naming the closed one.
      routed({ eventId: 'c2', canonicalId: 'obs-2', epid: 'EP2', correlationId: 'm2b', workflows: ['result-review'], tier: 'urgent', correction: true, value: 5.1 }),
      // A new result for two workflows (and a policy name no workflow claims: the default one), two audience copies in two tiers.
      routed({ eventId: 'n4-care', canonicalId: 'obs-4', epid: 'EP4', correlationId: 'm4', workflows: ['critical-result-review', 'result-review', 'unclaimed-name'] }),
      routed({ eventId: 'n4-oncall', canonicalId: 'obs-4', epid: 'EP4', correlationId: 'm4', workflows: ['critical-result-review', 'result-review', 'unclaimed-name'], audience: 'critical-result-oncall', tier: 'urgent' }),
      // Its correction in the same chunk: amends the task the chunk just opened.
      routed({ eventId: 'c4', canonicalId: 'obs-4', epid: 'EP4', correlationId: 'm4b', workflows: ['critical-result-review'], correction: true, value: 7.9 }),
      // A de-identified copy (nothing), a re-emission of obs-3's message (finds the stored task).
      routed({ eventId: 'n4-deid', canonicalId: 'obs-4', epid: 'PSEUDO', correlationId: 'm4', workflows: ['critical-result-review'], deidentified: true }),
      routed({ eventId: 's3-remapped', canonicalId: 'obs-3', epid: 'EP3', correlationId: 'm3', workflows: ['admission-notice'], tier: 'routine' }),
      // EP4 merged into EP9: the chunk's open tasks of EP4 move (a read the preload did not cover).
      merged('merge-1', 'EP9', 'EP4'),
      // A correction of obs-4 under the survivor: it finds the moved task; then one more new record.
      routed({ eventId: 'c4-ep9', canonicalId: 'obs-4', epid: 'EP9', correlationId: 'm4c', workflows: ['critical-result-review'], correction: true, value: 8.1 }),
      routed({ eventId: 'n5', canonicalId: 'obs-5', epid: 'EP5', correlationId: 'm5', workflows: ['discharge-follow-up'], tier: 'routine' }),
      routed({ eventId: 'n5-copy', canonicalId: 'obs-5', epid: 'EP5', correlationId: 'm5', workflows: ['discharge-follow-up'], tier: 'routine', audience: 'scheduling' }),
      // Work-queue items in the same transaction (a lane combines chunks): an identity review opened and another opened and resolved.
      identityEvent('rr-1', 'REVIEW_REQUIRED', 'EP5', { otherEpid: 'EP6', reviewItemId: 'review-1' }),
      identityEvent('rr-2', 'REVIEW_REQUIRED', 'EP7', { otherEpid: 'EP8', reviewItemId: 'review-2' }),
      identityEvent('rs-2', 'REVIEW_RESOLVED', 'EP7', { otherEpid: 'EP8', reviewItemId: 'review-2', resolution: 'not-duplicate' }),
    ];
    const [refSink, setSink] = [[] as OutgoingEvent[], [] as OutgoingEvent[]];
    await oneByOne(reference, handlers(perStatement), events, refSink);
    await chunk(actual, handlers(chunked), events, setSink);

    const [expected, got] = [await snapshot(reference), await snapshot(actual)];
    // The reference did what the cases say (so the comparison is about something).
    const tasks = expected.tk_task as Array<{ canonical_id: string; workflow: string; epid: string; version: number; details: Record<string, unknown> }>;
    assert.equal(tasks.filter((t) => t.canonical_id === 'obs-1').length, 1, 'a correction of an open task amends it');
    assert.ok(tasks.find((t) => t.canonical_id === 'obs-1')!.version >= 2);
    assert.equal(tasks.filter((t) => t.canonical_id === 'obs-2').length, 2, 'a correction of a closed task opens a new one');
    assert.deepEqual(tasks.filter((t) => t.canonical_id === 'obs-4').map((t) => [t.workflow, t.epid]).sort(),
      [['clinical-review', 'EP9'], ['critical-result-review', 'EP9'], ['result-review', 'EP9']], 'two copies, three workflows: three tasks, moved by the merge');
    assert.ok(tasks.find((t) => t.canonical_id === 'obs-4' && t.workflow === 'critical-result-review')!.version >= 4, 'opened, corrected, moved, corrected again');
    assert.equal(tasks.filter((t) => t.canonical_id === 'obs-5').length, 1);
    assert.deepEqual(tasks.filter((t) => t.workflow === 'identity-review').map((t) => [t.canonical_id, t.version]).sort(), [['review-1', 1], ['review-2', 2]], 'review items opened, one resolved');
    assert.ok((expected.tk_task_event as unknown[]).length > 20);

    assert.deepEqual(got, expected);
    assert.deepEqual(emitted(setSink), emitted(refSink));
    assert.ok(refSink.length >= 10, `task events emitted (${refSink.length})`);

    // The same chunk again (an inbox purge, a replay): nothing new in either.
    await oneByOne(reference, handlers(perStatement), events, []);
    await chunk(actual, handlers(chunked), events, []);
    assert.deepEqual(await snapshot(actual), await snapshot(reference));
  });

  it('a chunk issues a constant number of statements, whatever its size', async (t) => {
    const db = await database('tk_chunk_count');
    const ref = await database('tk_chunk_count_ref');
    /** n routed events: new records (two audience copies each, in two tiers) and corrections of stored open tasks, 4 : 1; and the earlier events that stored those tasks. */
    const mix = (n: number, tag: string) => {
      const events: Array<InboundEvent<RoutedEvent>> = [];
      const originals: Array<InboundEvent<RoutedEvent>> = [];
      for (let i = 0; events.length < n; i++) {
        if (i % 3 === 2) {
          const record = { canonicalId: `obs-${tag}-o${i}`, epid: `EP-${tag}-o${i}`, workflows: ['critical-result-review'] };
          originals.push(routed({ ...record, eventId: `${tag}-o${i}`, correlationId: `${tag}-o${i}` }));
          events.push(routed({ ...record, eventId: `${tag}-c${i}`, correlationId: `${tag}-c${i}`, correction: true, value: 7.5 }));
        } else {
          const record = { canonicalId: `obs-${tag}-${i}`, epid: `EP-${tag}-${i}`, correlationId: `${tag}-m${i}`, workflows: ['critical-result-review'] };
          events.push(routed({ ...record, eventId: `${tag}-n${i}` }));
          if (events.length < n) events.push(routed({ ...record, eventId: `${tag}-n${i}-b`, audience: 'critical-result-oncall', tier: 'urgent' }));
        }
      }
      return { events, originals };
    };
    const counts: Record<number, { chunk: number; oneByOne: number }> = {};
    for (const size of [10, 50]) {
      const { events, originals } = mix(size, `s${size}`);
      assert.ok(originals.length >= size / 5, `${originals.length} corrections in ${size}`);
      await chunk(db, handlers(chunked), originals, []);
      await oneByOne(ref, handlers(perStatement), originals, []);
      const [set, single] = [{ n: 0 }, { n: 0 }];
      await chunk(db, handlers(chunked), events, [], set);
      await oneByOne(ref, handlers(perStatement), events, [], single);
      counts[size] = { chunk: set.n, oneByOne: single.n };
      const stored = await db.query('SELECT count(*)::int AS n FROM tk_task_event WHERE event_id = ANY($1)', [events.map((e) => e.eventId)]);
      assert.equal(stored[0].n, size, 'every routed copy is linked');
    }
    t.diagnostic(`statements per chunk: ${JSON.stringify(counts)}; per routed event one by one: ${(counts[50].oneByOne / 50).toFixed(2)}, chunked: ${(counts[50].chunk / 50).toFixed(2)}`);
    // prepare: one read (tasks by trigger key + newest per canonical, locked); complete: one write (tasks inserted and updated, history, links).
    assert.equal(counts[50].chunk, counts[10].chunk, 'the chunk store issues as many statements for 50 events as for 10');
    assert.equal(counts[50].chunk, 2, `one read and one write a chunk (${counts[50].chunk})`);
    assert.ok(counts[50].oneByOne >= 3 * 50, `one by one costs statements per event (${counts[50].oneByOne})`);
  });

  it('a trigger key another transaction inserted meanwhile fails the chunk as retriable; the re-run links to that task', async () => {
    const db = await database('tk_chunk_race');
    const copy = (eventId: string, audience: string) => routed({ eventId, canonicalId: 'obs-r', epid: 'EPR', correlationId: 'mr', workflows: ['critical-result-review'], audience });
    const h = handlers(chunked);
    const failure = await inTransaction(db, async (uow) => {
      await TaskChunkStore.of(uow).preload(h.routedHandler.needs([copy('r-care', 'care-team')]));
      await h.handle(copy('r-care', 'care-team'), eventContext(uow, originOf(copy('r-care', 'care-team')), []));
      // Another replica handles the other audience copy of the same message and commits first.
      await oneByOne(db, handlers(perStatement), [copy('r-oncall', 'critical-result-oncall')], []);
      await TaskChunkStore.of(uow).flush();
    }).then(() => null, (error: unknown) => error);
    assert.ok(failure, 'the chunk fails');
    assert.equal((failure as { code?: string }).code, 'TASK.CHUNK_RACE');
    assert.ok(isRetriable(failure));
    await chunk(db, handlers(chunked), [copy('r-care', 'care-team')], []);
    const tasks = await db.query(`SELECT task_id, source_event_id FROM tk_task WHERE canonical_id = 'obs-r'`);
    assert.equal(tasks.length, 1);
    assert.equal(tasks[0].source_event_id, 'r-oncall');
    const links = await db.query(`SELECT event_id, task_id FROM tk_task_event WHERE event_id IN ('r-care', 'r-oncall') ORDER BY 1`);
    assert.deepEqual(links.map((l: { task_id: string }) => l.task_id), [tasks[0].task_id, tasks[0].task_id]);
  });
});
