import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventContext, EventOrigin, OutgoingEvent, UnitOfWork, eventContext } from '@clinmesh/event-runtime';
import type { Breaker } from '../domain/circuit-breaker';
import type { AttemptResult } from '../domain/retry-schedule';
import { ClaimedDelivery, DeliveryStore, SubscriptionHealth, TransactionRunner } from './notifier.ports';
import { RecordAttemptHandler } from './record-attempt.handler';
import { DeliveryReceipts } from './delivery-receipts';

/** In-memory store: what the handler decided, per call (the SQL is covered end to end). */
class FakeStore implements Partial<DeliveryStore> {
  health: SubscriptionHealth = { status: 'active', failingSince: null, breaker: { state: 'closed', consecutiveFailures: 0, openUntil: null } };
  finished: Array<[string, string, string | null]> = [];
  rescheduled: number[] = [];
  disabled: string[] = [];
  saved: Array<{ breaker: Breaker; failingSince: number | null; success: boolean }> = [];
  async lockHealth() { return this.health; }
  async saveHealth(_u: UnitOfWork, _s: string, h: { breaker: Breaker; failingSince: number | null; success: boolean }) {
    this.saved.push(h);
    this.health = { ...this.health, breaker: h.breaker, failingSince: h.failingSince };
  }
  healthy = 0;
  successesNoted = 0;
  async noteSuccess() { this.successesNoted++; }
  async markHealthy() {
    this.healthy++;
    this.health = { ...this.health, breaker: { state: 'closed', consecutiveFailures: 0, openUntil: null }, failingSince: null };
  }
  async disableSubscription(_u: UnitOfWork, _s: string, reason: string) { this.disabled.push(reason); }
  attempts: string[] = [];
  async recordAttempts(_u: UnitOfWork, rows: Array<{ deliveryId: string; outcome: string }>) { this.attempts.push(...rows.map((r) => `${r.deliveryId}:${r.outcome}`)); }
  async finish(_u: UnitOfWork, id: string, status: string, reason: string | null) { this.finished.push([id, status, reason]); }
  async finishDelivered(_u: UnitOfWork, rows: Array<{ deliveryId: string }>) { for (const r of rows) this.finished.push([r.deliveryId, 'delivered', null]); }
  async reschedule(_u: UnitOfWork, _id: string, delayMs: number) { this.rescheduled.push(delayMs); }
  async markFhirActive() {}
}

function setup(store = new FakeStore()) {
  const sink: OutgoingEvent[] = [];
  /** Origins of each transaction, in commit order. */
  const transactions: string[][] = [];
  // Runs the work, then (as a commit would) its after-commit callbacks.
  const run = async <T>(origins: readonly EventOrigin[], work: (contexts: EventContext[]) => Promise<T>): Promise<T> => {
    const committed: Array<() => void> = [];
    const uow = { afterCommit: (cb: () => void) => committed.push(cb) } as unknown as UnitOfWork;
    const result = await work(origins.map((origin) => eventContext(uow, origin, sink)));
    transactions.push(origins.map((o) => o.correlationId));
    committed.forEach((cb) => cb());
    return result;
  };
  const tx: TransactionRunner = {
    inTransaction: (origin, work) => run([origin], ([ctx]) => work(ctx)),
    inTransactionEach: run,
  };
  const handler = new RecordAttemptHandler(tx, store as unknown as DeliveryStore, new DeliveryReceipts(), {
    retryScheduleMs: [1000, 2000], jitter: 0, maxRetryAfterMs: 60_000, breaker: { failureThreshold: 2, openMs: 5000 }, disableAfterMs: 3_600_000, random: () => 0.5,
  });
  return { store, sink, handler, transactions };
}

const delivery = (attempts: number, deliveryId = 'd1', correlationId = 'c1'): ClaimedDelivery => ({
  deliveryId, subscriptionId: 's1', kind: 'webhook', url: 'https://x', audience: 'care-team', purposeOfUse: 'TREAT', sourceEventId: 'e1', correlationId,
  eventType: 'task.created', tier: 'stat', epid: 'E1', decisionId: null, payload: {}, attempts, attemptBase: 0, probe: false, receivedAt: null,
  secretSealed: '', previousSecretSealed: null, fhirHeaders: [], revoked: null,
});
const answer = (status: number | null, headers: Record<string, string> = {}): AttemptResult => ({ status, headers, error: null, errorCode: status === null ? 'TIMEOUT' : null });
const statuses = (sink: OutgoingEvent[]) => sink.map((e) => (e.value as { status?: string; errorCode?: string }).status ?? (e.value as { errorCode: string }).errorCode);

describe('recording an attempt', () => {
  it('reschedules on the schedule, or after Retry-After (capped), and counts toward the breaker', async () => {
    const { store, handler, sink } = setup();
    assert.equal(await handler.record(delivery(1), answer(500), 0, 5, null), 'retry');
    assert.equal(await handler.record(delivery(1), answer(429, { 'retry-after': '30' }), 0, 5, null), 'retry');
    assert.equal(await handler.record(delivery(1), answer(503, { 'retry-after': '86400' }), 0, 5, null), 'retry');
    assert.deepEqual(store.rescheduled, [1000, 30_000, 60_000]);
    assert.equal(store.saved[1].breaker.state, 'open', 'threshold 2 reached');
    assert.deepEqual(sink, [], 'no event until the final outcome');
  });
  it('exhaustion makes the delivery dead with a DEAD event and an operations event', async () => {
    const { store, handler, sink } = setup();
    assert.equal(await handler.record(delivery(3), answer(null), 0, 5, null), 'dead');
    assert.deepEqual(store.finished, [['d1', 'dead', 'RETRIES_EXHAUSTED']]);
    assert.deepEqual(statuses(sink), ['DEAD', 'NOTIFIER.DELIVERY_DEAD']);
  });
  it('410 disables the endpoint; abort-message kills only the message and keeps the endpoint healthy', async () => {
    const gone = setup();
    assert.equal(await gone.handler.record(delivery(1), answer(410), 0, 5, null), 'disabled');
    assert.deepEqual(gone.store.disabled, ['HTTP_410']);
    assert.deepEqual(statuses(gone.sink), ['ENDPOINT_DISABLED', 'NOTIFIER.ENDPOINT_DISABLED', 'DEAD', 'NOTIFIER.DELIVERY_DEAD']);
    const abort = setup();
    assert.equal(await abort.handler.record(delivery(1), answer(500, { 'webhook-delivery': 'abort-message' }), 0, 5, null), 'dead');
    assert.deepEqual(abort.store.finished, [['d1', 'dead', 'ABORTED_BY_RECEIVER']]);
    assert.equal(abort.store.healthy, 1, 'the endpoint answered: healthy');
    assert.deepEqual(abort.store.disabled, []);
  });
  it('an endpoint failing for longer than the disable period is disabled; success clears its failing streak', async () => {
    const store = new FakeStore();
    store.health = { ...store.health, failingSince: Date.now() - 4_000_000 };
    const { handler, sink } = setup(store);
    await handler.record(delivery(1), answer(500), 0, 5, null);
    assert.deepEqual(store.disabled, ['FAILING_TOO_LONG']);
    assert.ok(statuses(sink).includes('ENDPOINT_DISABLED'));
    const ok = setup();
    assert.equal(await ok.handler.record(delivery(2), answer(204), 0, 5, null), 'delivered');
    assert.equal(ok.store.healthy, 1);
    assert.equal(ok.store.successesNoted, 1, 'the success time is noted after the commit, outside the transaction');
    assert.equal(store.successesNoted, 0, 'a failure notes no success');
    assert.deepEqual(ok.store.saved, [], 'no locked health update on the hot path');
    assert.deepEqual(statuses(ok.sink), ['DELIVERED']);
    assert.equal(new Set(ok.sink.map((e) => e.meta.eventId)).size, 1);
  });
  it('attempts that finish together are recorded in one transaction, each with its own origin; a failure between two successes marks the endpoint healthy again', async () => {
    const { store, handler, sink, transactions } = setup();
    const outcomes = await Promise.all([
      handler.record(delivery(1, 'd1', 'c1'), answer(204), 0, 5, null),
      handler.record(delivery(1, 'd2', 'c2'), answer(200), 0, 5, null),
      handler.record(delivery(1, 'd3', 'c3'), answer(500), 0, 5, null),
      handler.record(delivery(1, 'd4', 'c4'), answer(204), 0, 5, null),
    ]);
    assert.deepEqual(outcomes, ['delivered', 'delivered', 'retry', 'delivered']);
    assert.deepEqual(transactions, [['c1', 'c2', 'c3', 'c4']], 'one transaction for the four');
    assert.equal(store.healthy, 2, 'marked healthy once for d1+d2, and again after d3 failed');
    assert.deepEqual(store.finished.map(([id]) => id), ['d1', 'd2', 'd4']);
    assert.deepEqual(store.attempts, ['d1:delivered', 'd2:delivered', 'd3:retry', 'd4:delivered'], 'every attempt recorded, in order');
    assert.deepEqual(sink.map((e) => e.meta.correlationId), ['c1', 'c2', 'c4'], 'each receipt carries its own attempt\'s correlation id');
    assert.equal(store.successesNoted, 3);
  });
  it('an attempt alone is recorded at once, in a transaction of its own', async () => {
    const { handler, transactions } = setup();
    assert.equal(await handler.record(delivery(1, 'd1', 'c1'), answer(204), 0, 5, null), 'delivered');
    assert.equal(await handler.record(delivery(1, 'd2', 'c2'), answer(204), 0, 5, null), 'delivered');
    assert.deepEqual(transactions, [['c1'], ['c2']]);
  });
});
