import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataSource } from 'typeorm';
import { EventRuntimeTables1732200000000, InboundEvent, OutgoingEvent, UnitOfWork, eventContext, inTransaction, originOf } from '@clinmesh/event-runtime';
import type { PolicyEvent, RoutedEvent, TaskEvent } from '@clinmesh/schemas';
import { MigratedDatabases, testEnvironment } from '@clinmesh/testing';
import { TIER_RANK } from '@clinmesh/topology';
import { NOTIFIER_MIGRATIONS } from '../adapters/persistence/notifier-v2.migration';
import { DeliveryRepository } from '../adapters/persistence/delivery.repository';
import { SubscriptionRepository } from '../adapters/persistence/subscription.repository';
import { SecretBox } from '../adapters/persistence/secret-box';
import { FanOutHandler } from './fan-out.handler';
import { RevokeDecisionHandler } from './revoke-decision.handler';
import { DeliveryReceipts } from './delivery-receipts';
import { fanOutChunks } from './fan-out-chunk';

const AT = 1_764_000_000_000;

function inbound<T extends { eventId: string; correlationId: string }>(value: T, topic: string, offset: number, tier: RoutedEvent['tier'] = 'urgent'): InboundEvent<T> {
  return { eventId: value.eventId, correlationId: value.correlationId, tier, receivedAt: AT, topic, partition: 0, offset, key: 'k', headers: {}, schemaId: 1, value };
}

function routed(n: number, audience: string, decisionId: string): RoutedEvent {
  const canonicalId = `obs-${n}`;
  return {
    eventId: `routed-${n}-${audience}`, correlationId: `corr-${n}`, causationId: `canonical-${n}`, epid: `EP-${n % 4}`, tier: n % 3 === 0 ? 'stat' : 'routine',
    decision: { policyVersion: 'v-test', ruleIds: ['r'], workflows: ['critical-result-review'], audiences: [audience], originalTier: 'routine', explanation: 'test' },
    audience, purposeOfUse: 'TREAT', decisionId, effect: 'PERMIT', projection: 'clinical', labels: [], critical: true, deidentified: false,
    canonical: {
      eventId: `canonical-${n}`, correlationId: `corr-${n}`, causationId: `identified-${n}`, epid: `EP-${n % 4}`, tier: 'routine', changeType: 'CREATE', occurredAt: null, recordedAt: AT, receivedAt: AT,
      source: { system: 'LAB', facility: 'MAIN', channel: 'MLLP' }, resourceType: 'Observation', canonicalId,
      document: JSON.stringify({ resourceType: 'Observation', id: canonicalId, value: n }),
      provenance: { sourceSystem: 'LAB', messageId: `msg-${n}`, sourceFormat: 'HL7V2', sourceMessageType: 'ORU^R01', mappingVersion: 'test', sourceFields: ['OBX-5'] },
    },
  } as RoutedEvent;
}

function task(n: number, audiences: string[]): TaskEvent {
  return {
    eventId: `task-ev-${n}`, correlationId: `corr-${n}`, causationId: `routed-${n}`, epid: `EP-${n % 4}`, tier: 'urgent', taskId: `task-${n}`, change: 'CREATED',
    workflow: 'critical-result-review', status: 'requested', title: 'Review ORU^R01', dueAt: AT + 3600_000, audiences, messageType: 'ORU^R01',
    resourceType: 'Observation', canonicalId: `obs-${n}`, receivedAt: AT,
  } as TaskEvent;
}

function revocation(n: number, decisionId: string): PolicyEvent {
  return { eventId: `revoke-${n}`, correlationId: `corr-revoke-${n}`, kind: 'DECISION_REVOKED', subjectId: decisionId, epid: 'EP-1', audience: 'care-team', reason: 'consent withdrawn', at: AT } as PolicyEvent;
}

type Step = { kind: 'routed'; event: InboundEvent<RoutedEvent> } | { kind: 'task'; event: InboundEvent<TaskEvent> } | { kind: 'revoke'; event: InboundEvent<PolicyEvent> };

/**
 * A chunk mixing what one notifier transaction can hold (the runtime combines its consumers' chunks):
 * views of several decisions for two audiences, task events, a view repeated, a view of a decision
 * revoked before the chunk, and a revocation in the middle with views of its decision before and after it.
 */
function steps(): Step[] {
  const out: Step[] = [];
  let offset = 0;
  const add = (s: Step) => out.push(s);
  for (let n = 1; n <= 12; n++) {
    add({ kind: 'routed', event: inbound(routed(n, 'care-team', `D${n % 4}`), 'clinical.routed.routine', offset++) });
    if (n % 2 === 0) add({ kind: 'routed', event: inbound(routed(n, 'billing', `D${n % 4}`), 'clinical.routed.routine', offset++) });
    if (n % 3 === 0) add({ kind: 'task', event: inbound(task(n, ['care-team']), 'clinical.tasks.urgent', offset++) });
    if (n === 6) add({ kind: 'revoke', event: inbound(revocation(n, 'D1'), 'clinical.policy.events', offset++) });
  }
  // The same view again (a replay past the inbox): its delivery id is the same, nothing is added.
  add({ kind: 'routed', event: inbound(routed(2, 'care-team', 'D2'), 'clinical.routed.routine', offset++) });
  add({ kind: 'routed', event: inbound(routed(20, 'care-team', 'D-OLD'), 'clinical.routed.routine', offset++) });
  return out;
}

/** Counts the statements a unit of work runs. */
function counting(uow: UnitOfWork, counter: { n: number }): UnitOfWork {
  return {
    manager: uow.manager,
    query: (sql, params) => { counter.n++; return uow.query(sql, params); },
    execute: (sql, params) => { counter.n++; return uow.execute(sql, params); },
    afterCommit: (callback) => uow.afterCommit(callback),
    deferWrite: (sql, params) => uow.deferWrite(sql, params),
  };
}

/**
 * The fan-out written set-based per transaction (FanOutChunk) on real PostgreSQL: a whole chunk in one
 * transaction must leave the deliveries, and emit the receipts, that the same events handled one per
 * transaction leave and emit — the one-by-one order is the reference.
 */
describe('notifier fan-out chunk on PostgreSQL', { timeout: 180_000 }, () => {
  const env = testEnvironment();
  const databases = new MigratedDatabases(env, [EventRuntimeTables1732200000000, ...NOTIFIER_MIGRATIONS]);

  async function notifierDatabase(label: string) {
    const db = await databases.create(label);
    const subscriptions = new SubscriptionRepository(db, new SecretBox('k'.repeat(32)));
    for (const audience of ['care-team', 'billing']) {
      await subscriptions.create({
        id: `sub-${audience}`, kind: 'webhook', name: audience, url: 'https://receiver.invalid/hook', audience, purposeOfUse: 'TREAT', events: ['routed', 'task.*'],
        filter: {}, ordering: 'none', fhir: null, secret: 'whsec_test', createdBy: 'test',
      });
    }
    const deliveries = new DeliveryRepository(db);
    // Revoked before the chunk: its views are never enqueued.
    await inTransaction(db, (uow) => deliveries.recordRevokedDecision(uow, { decisionId: 'D-OLD', epid: null, audience: null, reason: 'old', at: AT, sourceEventId: 'revoke-old' }));
    let woken = 0;
    const chunks = fanOutChunks(deliveries);
    const fanOut = new FanOutHandler(subscriptions, deliveries, chunks, { resourceBaseUrl: 'urn:test', subscriptionBaseUrl: 'urn:test', now: () => AT }, () => woken++);
    const revoke = new RevokeDecisionHandler(deliveries, chunks, new DeliveryReceipts());
    return { db, fanOut, revoke, woken: () => woken };
  }

  /** As the runtime runs a transaction: the prepare step, the handlers in order, the complete step. */
  async function run(n: Awaited<ReturnType<typeof notifierDatabase>>, chunk: Step[], sink: OutgoingEvent[], counter = { n: 0 }): Promise<void> {
    await inTransaction(n.db, async (tx) => {
      const uow = counting(tx, counter);
      await n.fanOut.prepareRouted(chunk.filter((s) => s.kind === 'routed').map((s) => s.event as InboundEvent<RoutedEvent>), uow);
      for (const s of chunk) {
        const ctx = eventContext(uow, originOf(s.event), sink);
        if (s.kind === 'routed') await n.fanOut.handleRouted(s.event, ctx);
        else if (s.kind === 'task') await n.fanOut.handleTask(s.event, ctx);
        else await n.revoke.handle(s.event, ctx);
      }
      await n.fanOut.complete(uow);
    });
  }

  const deliveriesOf = (db: DataSource) => db.query(
    `SELECT delivery_id, subscription_id, source_event_id, event_type, tier, epid, decision_id, status, end_reason, payload FROM nf_delivery ORDER BY delivery_id`);
  // A receipt's `at` is the clock when it was emitted: everything else must match.
  const outputs = (sink: OutgoingEvent[]) => sink.map((e) => ({ topic: e.topic, key: e.key, eventId: e.meta.eventId, value: { ...(e.value as object), at: undefined } }));

  let reference: { rows: unknown[]; sink: OutgoingEvent[] };
  let chunked: { rows: unknown[]; sink: OutgoingEvent[]; statements: number; woken: number };

  before(async () => {
    const one = await notifierDatabase('nf_chunk_ref');
    const refSink: OutgoingEvent[] = [];
    for (const s of steps()) await run(one, [s], refSink);
    reference = { rows: await deliveriesOf(one.db), sink: refSink };
    const set = await notifierDatabase('nf_chunk_set');
    const sink: OutgoingEvent[] = [];
    const counter = { n: 0 };
    await run(set, steps(), sink, counter);
    chunked = { rows: await deliveriesOf(set.db), sink, statements: counter.n, woken: set.woken() };
  });

  after(() => databases.dropAll());

  it('one transaction leaves the same deliveries and emits the same receipts as one event per transaction', () => {
    const rows = reference.rows as Array<{ decision_id: string | null; status: string; end_reason: string | null }>;
    // The scenario holds what it is meant to: deliveries cancelled by the revocation mid-chunk, views after it not enqueued, none for the old revocation.
    assert.ok(rows.some((r) => r.decision_id === 'D1' && r.status === 'cancelled' && r.end_reason === 'DECISION_REVOKED'), 'views of D1 before its revocation are cancelled');
    assert.ok(!rows.some((r) => r.decision_id === 'D1' && r.status === 'pending'), 'no view of D1 after its revocation is pending');
    assert.ok(!rows.some((r) => r.decision_id === 'D-OLD'), 'a decision revoked earlier enqueues nothing');
    assert.ok(rows.some((r) => r.status === 'pending' && r.decision_id === null), 'task events make deliveries');
    assert.ok(reference.sink.some((e) => (e.value as { status?: string }).status === 'CANCELLED'), 'the cancellations emit receipts');
    assert.deepEqual(chunked.rows, reference.rows);
    assert.deepEqual(outputs(chunked.sink), outputs(reference.sink));
    assert.equal(chunked.woken, 1, 'the worker is woken once, after the commit');
  });

  it('a transaction runs a bounded number of statements whatever its size (not one or two per event)', () => {
    const events = steps().length;
    // subscriptions snapshot + revoked decisions + one insert, and for the revocation its record, the flush before it and the cancel.
    assert.ok(chunked.statements <= 6, `${chunked.statements} statements for ${events} events`);
    assert.ok(events > 20);
  });

  it('the worker\'s claim never takes a tier above the rank it is given (bulk held back while paced)', async () => {
    const n = await notifierDatabase('nf_chunk_claim');
    await run(n, steps(), []);
    const deliveries = new DeliveryRepository(n.db);
    const pending = await n.db.query(`SELECT tier, count(*)::int AS c FROM nf_delivery WHERE status = 'pending' GROUP BY tier`) as Array<{ tier: string; c: number }>;
    const count = (tier: string) => pending.find((p) => p.tier === tier)?.c ?? 0;
    assert.ok(count('stat') > 0 && count('urgent') + count('routine') > 0, `the scenario holds stat and less urgent deliveries: ${JSON.stringify(pending)}`);
    const statOnly = await deliveries.claimDue(1000, 30, 1000, TIER_RANK.stat);
    assert.equal(statOnly.length, count('stat'));
    assert.ok(statOnly.every((d) => d.tier === 'stat'));
    const rest = await deliveries.claimDue(1000, 30, 1000);
    assert.equal(rest.length, count('urgent') + count('routine') + count('bulk'), 'without a rank, every tier');
    assert.ok(rest.every((d) => d.tier !== 'stat'), 'the stat ones are already in flight');
  });
});
