import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, RuntimeMetrics } from '@clinmesh/observability';
import { waitFor } from '@clinmesh/testing';
import type { ClaimedDelivery } from '../../application/notifier.ports';
import type { RecordAttemptHandler } from '../../application/record-attempt.handler';
import type { DeliveryRepository } from '../persistence/delivery.repository';
import type { SecretBox } from '../persistence/secret-box';
import type { PinnedHttpClient } from './pinned-http.client';
import { DeliveryWorker } from './delivery.worker';
import { BulkDeliveryPacer } from './bulk-delivery.pacer';

/**
 * The worker's wake-up logic alone (its SQL and HTTP are covered by the notifier e2e): a wake
 * that arrives while the loop is claiming must not be lost, or a delivery committed during the
 * claim waits a whole poll interval.
 */
describe('DeliveryWorker wake-ups', () => {
  const revokedDelivery = { deliveryId: 'd-1', subscriptionId: 's-1', correlationId: 'c-1', tier: 'stat', revoked: { reason: 'test' } } as unknown as ClaimedDelivery;

  it('claims again at once when notified during a claim, instead of sleeping until the next poll', async () => {
    const cancelled: string[] = [];
    let claims = 0;
    let worker: DeliveryWorker | null = null;
    const deliveries = {
      claimProbes: async () => [],
      claimDue: async () => {
        claims += 1;
        // The first claim runs while the fan-out commits: its notify lands mid-claim, and the claim saw nothing.
        if (claims === 1) {
          worker!.notify();
          return [];
        }
        return claims === 2 ? [revokedDelivery] : [];
      },
    } as unknown as DeliveryRepository;
    const attempts = { cancelRevoked: async (d: ClaimedDelivery) => { cancelled.push(d.deliveryId); } } as unknown as RecordAttemptHandler;
    worker = new DeliveryWorker(deliveries, attempts, {} as PinnedHttpClient, {} as SecretBox, new RuntimeMetrics('notifier-worker-spec'), createLogger('notifier-worker-spec', 'silent'), {
      // A poll far longer than the wait below: only the kept wake-up can make the second claim happen.
      concurrency: 4, perSubscription: 2, leaseSeconds: 30, timeoutMs: 1000, pollMs: 600_000,
    });
    worker.start();
    try {
      await waitFor(() => cancelled.length === 1, { what: 'the delivery committed during the first claim', timeoutMs: 20_000, intervalMs: 10 });
      assert.deepEqual(cancelled, ['d-1']);
      assert.ok(claims >= 2);
    } finally {
      await worker.stop();
    }
  });

  it('sleeps until the poll when nothing notified it (no busy loop)', async () => {
    let claims = 0;
    const deliveries = { claimProbes: async () => [], claimDue: async () => { claims += 1; return []; } } as unknown as DeliveryRepository;
    const worker = new DeliveryWorker(deliveries, {} as RecordAttemptHandler, {} as PinnedHttpClient, {} as SecretBox, new RuntimeMetrics('notifier-worker-spec-2'), createLogger('notifier-worker-spec-2', 'silent'), {
      concurrency: 4, perSubscription: 2, leaseSeconds: 30, timeoutMs: 1000, pollMs: 600_000,
    });
    worker.start();
    await waitFor(() => claims === 1, { what: 'the first claim', timeoutMs: 20_000, intervalMs: 10 });
    worker.notify();
    await waitFor(() => claims === 2, { what: 'the claim a notify asks for', timeoutMs: 20_000, intervalMs: 10 });
    await worker.stop();
    assert.equal(claims, 2, 'one claim per wake-up: an empty claim does not spin');
  });

  it('after a stat delivery, claims bulk in one bounded round, then leaves bulk out of its claims while the round is held', async () => {
    let t = 1_000;
    const claims: Array<{ limit: number; maxTierRank: number }> = [];
    const revoked = (id: string, tier: string) => ({ ...revokedDelivery, deliveryId: id, tier }) as ClaimedDelivery;
    const answers: ClaimedDelivery[][] = [[revoked('s-1', 'stat')], [revoked('b-1', 'bulk'), revoked('b-2', 'bulk')]];
    const deliveries = {
      claimProbes: async () => [],
      claimDue: async (limit: number, _lease: number, _perSub: number, maxTierRank: number) => {
        claims.push({ limit, maxTierRank });
        return answers.shift() ?? [];
      },
    } as unknown as DeliveryRepository;
    // Each bulk attempt "takes" 40 ms of the pacer's clock.
    const attempts = { cancelRevoked: async (d: ClaimedDelivery) => { if (d.tier === 'bulk') t += 40; } } as unknown as RecordAttemptHandler;
    const pacer = new BulkDeliveryPacer({ share: 0.25, withinMs: 60_000, maxPauseMs: 10_000, chunkSize: 3 }, () => false, () => t);
    const worker = new DeliveryWorker(deliveries, attempts, {} as PinnedHttpClient, {} as SecretBox, new RuntimeMetrics('notifier-worker-spec-3'), createLogger('notifier-worker-spec-3', 'silent'), {
      concurrency: 8, perSubscription: 2, leaseSeconds: 30, timeoutMs: 1000, pollMs: 600_000,
    }, pacer);
    worker.start();
    try {
      // Claims after the round: the bulk attempts finished and the hold (their 80 ms × 3) is in force.
      await waitFor(() => claims.length >= 4, { what: 'claims after the bulk round', timeoutMs: 20_000, intervalMs: 10 });
      assert.deepEqual(claims[0], { limit: 8, maxTierRank: 3 }, 'nothing urgent seen yet: every tier, every free slot');
      assert.deepEqual(claims[1], { limit: 3, maxTierRank: 3 }, 'after the stat delivery: bulk in a round of the paced size');
      assert.ok(claims.slice(2).every((c) => c.maxTierRank === 2), `bulk left out while its round runs or is held: ${JSON.stringify(claims.slice(2))}`);
      assert.equal(pacer.holdRemainingMs(), 240);
    } finally {
      await worker.stop();
    }
  });

  it('starts a due delivery before it looks for half-open probes: the delivery never waits for that look', async () => {
    const cancelled: string[] = [];
    let releaseProbeLook: () => void = () => undefined;
    const probeLookStarted: string[] = [];
    const deliveries = {
      // The look hangs until released: a delivery claimed after it would wait as long.
      claimProbes: () => new Promise<ClaimedDelivery[]>((resolve) => { probeLookStarted.push(`after ${cancelled.length} deliveries`); releaseProbeLook = () => resolve([]); }),
      claimDue: async () => (cancelled.length ? [] : [revokedDelivery]),
    } as unknown as DeliveryRepository;
    const attempts = { cancelRevoked: async (d: ClaimedDelivery) => { cancelled.push(d.deliveryId); } } as unknown as RecordAttemptHandler;
    const worker = new DeliveryWorker(deliveries, attempts, {} as PinnedHttpClient, {} as SecretBox, new RuntimeMetrics('notifier-worker-spec-order'), createLogger('notifier-worker-spec-order', 'silent'), {
      concurrency: 4, perSubscription: 2, leaseSeconds: 30, timeoutMs: 1000, pollMs: 600_000, probeEveryMs: 0,
    });
    worker.start();
    try {
      await waitFor(() => cancelled.length === 1, { what: 'the due delivery while the probe look is still open', timeoutMs: 20_000, intervalMs: 10 });
      assert.equal(probeLookStarted.length, 1, 'the probe look had started and not finished');
    } finally {
      releaseProbeLook();
      await worker.stop();
    }
  });

  it('looks for half-open probes at most once per probe interval, not before every claim', async () => {
    let probeLooks = 0;
    let claims = 0;
    const deliveries = {
      claimProbes: async () => { probeLooks += 1; return []; },
      // Five claims in a row that each find a delivery: each finished attempt wakes the loop again.
      claimDue: async () => (++claims <= 5 ? [{ ...revokedDelivery, deliveryId: `d-${claims}` } as ClaimedDelivery] : []),
    } as unknown as DeliveryRepository;
    const attempts = { cancelRevoked: async () => undefined } as unknown as RecordAttemptHandler;
    const worker = new DeliveryWorker(deliveries, attempts, {} as PinnedHttpClient, {} as SecretBox, new RuntimeMetrics('notifier-worker-spec-4'), createLogger('notifier-worker-spec-4', 'silent'), {
      concurrency: 4, perSubscription: 2, leaseSeconds: 30, timeoutMs: 1000, pollMs: 600_000, probeEveryMs: 600_000,
    });
    worker.start();
    try {
      await waitFor(() => claims >= 6, { what: 'the claims after five finished attempts', timeoutMs: 20_000, intervalMs: 10 });
      assert.equal(probeLooks, 1, 'one look in the interval, however many claims');
    } finally {
      await worker.stop();
    }
  });
  it('a claim that took fewer than it asked for is not repeated at once: the next claim waits for a notify', async () => {
    let claims = 0;
    const started: string[] = [];
    let finish: () => void = () => undefined;
    const hanging = new Promise<void>((resolve) => { finish = resolve; });
    const deliveries = {
      claimProbes: async () => [],
      claimDue: async () => {
        claims += 1;
        return claims === 1 ? ['d-1', 'd-2'].map((id) => ({ ...revokedDelivery, deliveryId: id })) : [];
      },
    } as unknown as DeliveryRepository;
    // The two attempts stay in flight until the test lets them finish, so no finished attempt wakes the loop meanwhile.
    const attempts = { cancelRevoked: async (d: ClaimedDelivery) => { started.push(d.deliveryId); await hanging; } } as unknown as RecordAttemptHandler;
    const worker = new DeliveryWorker(deliveries, attempts, {} as PinnedHttpClient, {} as SecretBox, new RuntimeMetrics('notifier-worker-spec-5'), createLogger('notifier-worker-spec-5', 'silent'), {
      concurrency: 4, perSubscription: 4, leaseSeconds: 30, timeoutMs: 1000, pollMs: 600_000,
    });
    worker.start();
    try {
      await waitFor(() => started.length === 2, { what: 'both claimed deliveries in flight', timeoutMs: 20_000, intervalMs: 10 });
      // Asked for 4 (free slots), got 2: everything due was taken. Re-claiming at once (as before) would have
      // made a second claim right after dispatching, before the attempts were even under way.
      assert.equal(claims, 1, 'one claim for one wake-up');
      worker.notify();
      await waitFor(() => claims === 2, { what: 'the claim a notify asks for', timeoutMs: 20_000, intervalMs: 10 });
    } finally {
      finish();
      await worker.stop();
    }
  });
});
