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
});
