import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DataSource } from 'typeorm';
import { EventRuntimeTables1732200000000, inTransaction } from '@clinmesh/event-runtime';
import { MigratedDatabases, testEnvironment } from '@clinmesh/testing';
import { TIER_RANK, type Tier } from '@clinmesh/topology';
import type { NewDelivery } from '../../application/notifier.ports';
import { NOTIFIER_MIGRATIONS } from './notifier-v2.migration';
import { CLAIM_DUE_SQL, DeliveryRepository } from './delivery.repository';
import { SubscriptionRepository } from './subscription.repository';
import { SecretBox } from './secret-box';

/**
 * The delivery claim on PostgreSQL: most urgent tier first, then longest due; expired leases taken
 * back; the per-subscription in-flight cap; per-patient order; open breakers and tiers above the
 * asked rank left alone — and all of it still true when a deep backlog sits behind the answer
 * (the claim reads each subscription's due deliveries in index order and stops at the cap).
 */
describe('notifier delivery claim on PostgreSQL', { timeout: 120_000 }, () => {
  const env = testEnvironment();
  const databases = new MigratedDatabases(env, [EventRuntimeTables1732200000000, ...NOTIFIER_MIGRATIONS]);
  let db: DataSource;
  let deliveries: DeliveryRepository;

  const delivery = (id: string, subscriptionId: string, tier: Tier, epid: string | null = null): NewDelivery => ({
    deliveryId: id, subscriptionId, sourceEventId: `src-${id}`, correlationId: `corr-${id}`, eventType: 'routed', tier, epid, decisionId: null,
    payload: { id }, fhirEventNumber: null, focus: null, receivedAt: null,
  });
  /** Sets a delivery's state directly: due `dueSecondsAgo` ago (negative: in the future), or in flight with a lease ending `leaseSeconds` from now. */
  const pending = (id: string, dueSecondsAgo: number) =>
    db.query(`UPDATE nf_delivery SET status = 'pending', due_at = now() - make_interval(secs => $2) WHERE delivery_id = $1`, [id, dueSecondsAgo]);
  const inFlight = (id: string, dueSecondsAgo: number, leaseSeconds: number) =>
    db.query(`UPDATE nf_delivery SET status = 'in_flight', due_at = now() - make_interval(secs => $2), lease_until = now() + make_interval(secs => $3) WHERE delivery_id = $1`, [id, dueSecondsAgo, leaseSeconds]);
  const claimedIds = async (limit: number, perSubscription: number, maxTierRank?: number) =>
    (await deliveries.claimDue(limit, 30, perSubscription, maxTierRank)).map((d) => d.deliveryId);
  const release = (ids: string[]) => db.query(`UPDATE nf_delivery SET status = 'pending', lease_until = NULL WHERE delivery_id = ANY($1)`, [ids]);

  before(async () => {
    db = await databases.create('nf_claim');
    const subscriptions = new SubscriptionRepository(db, new SecretBox('k'.repeat(32)));
    for (const [id, ordering] of [['sub-any', 'none'], ['sub-patient', 'patient'], ['sub-open', 'none']] as const) {
      await subscriptions.create({
        id, kind: 'webhook', name: id, url: 'https://receiver.invalid/hook', audience: id, purposeOfUse: 'TREAT', events: ['routed'],
        filter: {}, ordering, fhir: null, secret: 'whsec_test', createdBy: 'test',
      });
    }
    await db.query(`UPDATE nf_subscription SET breaker_state = 'open', breaker_open_until = now() + interval '1 hour' WHERE id = 'sub-open'`);
    deliveries = new DeliveryRepository(db);
    // sub-patient, enqueued in this order (seq): EP-1's routine, EP-1's stat, EP-2's bulk.
    await inTransaction(db, (uow) => deliveries.enqueue(uow, [
      delivery('any-bulk-old', 'sub-any', 'bulk'), delivery('any-stat', 'sub-any', 'stat'), delivery('any-routine', 'sub-any', 'routine'),
      delivery('any-routine-expired', 'sub-any', 'routine'), delivery('any-urgent-later', 'sub-any', 'urgent'), delivery('any-live', 'sub-any', 'routine'),
      delivery('pat-1-routine', 'sub-patient', 'routine', 'EP-1'), delivery('pat-1-stat', 'sub-patient', 'stat', 'EP-1'), delivery('pat-2-bulk', 'sub-patient', 'bulk', 'EP-2'),
      delivery('open-stat', 'sub-open', 'stat'),
    ]));
    await pending('any-bulk-old', 600);
    await pending('any-stat', 10);
    await pending('any-routine', 50);
    await inFlight('any-routine-expired', 100, -5); // its worker died: the lease ran out
    await pending('any-urgent-later', -600); // a retry scheduled for later: not due
    await inFlight('any-live', 1, 60); // in flight now: takes one of sub-any's slots
    await pending('open-stat', 10);
  });

  after(() => databases.dropAll());

  it('claims the most urgent tier first, then the longest due; expired leases are taken back; the cap counts live leases', async () => {
    const ids = await claimedIds(10, 4);
    const any = ids.filter((id) => id.startsWith('any-')).sort();
    // Four slots, one held by any-live: stat and the two routine ones (one an expired lease), not the bulk one due longest.
    assert.deepEqual(any, ['any-routine', 'any-routine-expired', 'any-stat']);
    assert.ok(!ids.includes('any-urgent-later'), 'a delivery not yet due is never claimed');
    assert.ok(!ids.includes('open-stat'), 'a subscription whose breaker is open gets nothing');
    const [{ attempts, status }] = await db.query(`SELECT attempts, status FROM nf_delivery WHERE delivery_id = 'any-routine-expired'`);
    assert.equal(status, 'in_flight');
    assert.equal(Number(attempts), 1, 'a reclaimed delivery counts a new attempt');
    await release(ids);
  });

  it('keeps per-patient order: a later delivery of a patient waits for the earlier one, whatever its tier', async () => {
    const ids = (await claimedIds(10, 4)).filter((id) => id.startsWith('pat-')).sort();
    assert.deepEqual(ids, ['pat-1-routine', 'pat-2-bulk'], 'EP-1\'s stat delivery waits for its routine one');
    await db.query(`UPDATE nf_delivery SET status = 'delivered', lease_until = NULL WHERE delivery_id = 'pat-1-routine'`);
    await release(['pat-2-bulk']);
    const next = (await claimedIds(10, 4)).filter((id) => id.startsWith('pat-')).sort();
    assert.deepEqual(next, ['pat-1-stat', 'pat-2-bulk'], 'EP-1\'s stat delivery is claimable once the earlier one is done');
    await db.query(`UPDATE nf_delivery SET status = 'pending', lease_until = NULL WHERE subscription_id <> 'sub-open'`);
    await db.query(`UPDATE nf_delivery SET status = 'in_flight', lease_until = now() + interval '1 minute' WHERE delivery_id = 'any-live'`);
    await db.query(`UPDATE nf_delivery SET status = 'delivered' WHERE delivery_id = 'pat-1-routine'`);
    await pending('any-urgent-later', -600);
  });

  it('leaves tiers above the asked rank and respects the overall limit', async () => {
    const urgentOnly = await claimedIds(10, 4, TIER_RANK.urgent);
    assert.deepEqual(urgentOnly.sort(), ['any-stat', 'pat-1-stat'].sort());
    await release(urgentOnly);
    assert.equal((await claimedIds(1, 4)).length, 1);
    await db.query(`UPDATE nf_delivery SET status = 'pending', lease_until = NULL WHERE status = 'in_flight' AND delivery_id <> 'any-live'`);
  });

  it('finds the one stat delivery behind a deep bulk backlog, and a patient\'s turn behind that patient\'s own backlog', async () => {
    const backlog = Array.from({ length: 1500 }, (_, i) => delivery(`deep-${i}`, 'sub-any', 'bulk'));
    const patientBacklog = Array.from({ length: 600 }, (_, i) => delivery(`pat-3-${i}`, 'sub-patient', 'routine', 'EP-3'));
    await inTransaction(db, async (uow) => {
      await deliveries.enqueue(uow, backlog);
      await deliveries.enqueue(uow, patientBacklog);
      await deliveries.enqueue(uow, [delivery('late-stat', 'sub-any', 'stat'), delivery('pat-4-routine', 'sub-patient', 'routine', 'EP-4')]);
    });
    await db.query('ANALYZE nf_delivery');
    const ids = await claimedIds(20, 3);
    const any = ids.filter((id) => id.startsWith('any-') || id.startsWith('deep-') || id.startsWith('late-'));
    // sub-any: one slot is held by any-live; the two stat deliveries come before every routine and bulk one.
    assert.deepEqual(any.sort(), ['any-stat', 'late-stat'].sort());
    // sub-patient, three slots: EP-1's stat first, then the heads of EP-3's and EP-4's queues (routine) before
    // EP-2's bulk one — never a second delivery of EP-3, however many of them are due.
    assert.deepEqual(ids.filter((id) => id.startsWith('pat-')).sort(), ['pat-1-stat', 'pat-3-0', 'pat-4-routine']);
  });
});

/**
 * The claim's plan when the statistics lag the queue (a table that fills faster than autovacuum
 * analyses it: the last ANALYZE saw every delivery finished, so "pending" looks empty), read from
 * EXPLAIN ANALYZE: how often each part ran, independently of the machine's speed.
 */
describe('notifier delivery claim: plan under stale statistics', { timeout: 120_000 }, () => {
  const env = testEnvironment();
  const databases = new MigratedDatabases(env, [EventRuntimeTables1732200000000, ...NOTIFIER_MIGRATIONS]);
  let db: DataSource;

  before(async () => {
    db = await databases.create('nf_claim_plan');
    await new SubscriptionRepository(db, new SecretBox('k'.repeat(32))).create({
      id: 'sub-q', kind: 'webhook', name: 'sub-q', url: 'https://receiver.invalid/hook', audience: 'sub-q', purposeOfUse: 'TREAT', events: ['routed'],
      filter: {}, ordering: 'none', fhir: null, secret: 'whsec_test', createdBy: 'test',
    });
    const deliveries = new DeliveryRepository(db);
    const batch = (prefix: string, n: number): NewDelivery[] => Array.from({ length: n }, (_, i) => ({
      deliveryId: `${prefix}-${i}`, subscriptionId: 'sub-q', sourceEventId: `src-${prefix}-${i}`, correlationId: `corr-${prefix}-${i}`, eventType: 'routed',
      tier: 'routine', epid: `EP-${i % 50}`, decisionId: null, payload: { i }, fhirEventNumber: null, focus: null, receivedAt: null,
    }));
    await inTransaction(db, (uow) => deliveries.enqueue(uow, batch('done', 400)));
    await db.query(`UPDATE nf_delivery SET status = 'delivered', finished_at = now()`);
    await db.query('ANALYZE nf_delivery');
    await inTransaction(db, (uow) => deliveries.enqueue(uow, batch('open', 300)));
  });

  after(() => databases.dropAll());

  for (const mode of ['force_generic_plan', 'force_custom_plan'] as const) {
    it(`computes the candidates once, not once per open delivery (${mode})`, async () => {
      const runner = db.createQueryRunner();
      await runner.connect();
      try {
        await runner.startTransaction();
        await runner.query(`SET LOCAL plan_cache_mode = ${mode}`);
        await runner.query(`PREPARE claim_plan AS ${CLAIM_DUE_SQL}`);
        const [row] = await runner.query('EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE claim_plan(20, 30, 4, 4)');
        const plan = (typeof row['QUERY PLAN'] === 'string' ? JSON.parse(row['QUERY PLAN']) : row['QUERY PLAN'])[0].Plan;
        assert.equal(plan['Actual Rows'], 4, 'the per-subscription cap of four is claimed');
        // The subscription's due-order scan runs once per subscription (one here). Inlined into `picked`, it
        // ran once per open delivery (300 loops) — each loop wading through the index entries of deliveries
        // no longer pending, which is what made a claim 29–110 ms in a mixed-feed run.
        const dueScans = planNodes(plan).filter((n) => n['Index Name'] === 'nf_delivery_subscription_due');
        assert.ok(dueScans.length > 0, 'the claim reads pending deliveries in due order');
        assert.deepEqual(dueScans.map((n) => n['Actual Loops']), dueScans.map(() => 1));
      } finally {
        await runner.rollbackTransaction().catch(() => undefined);
        await runner.query('DEALLOCATE ALL').catch(() => undefined);
        await runner.release();
      }
    });
  }
});

type PlanNode = Record<string, any> & { Plans?: PlanNode[] };
function planNodes(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(planNodes)];
}
