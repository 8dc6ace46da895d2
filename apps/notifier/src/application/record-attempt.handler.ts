import { EventContext, EventOrigin, GroupCommit } from '@clinmesh/event-runtime';
import { AttemptResult, judgeAttempt, retryDelayMs } from '../domain/retry-schedule';
import { BreakerSettings, afterFailure } from '../domain/circuit-breaker';
import { AttemptRow, ClaimedDelivery, DeliveryStore, TransactionRunner } from './notifier.ports';
import { DeliveryReceipts } from './delivery-receipts';

export interface AttemptPolicy {
  retryScheduleMs: number[];
  jitter: number;
  maxRetryAfterMs: number;
  breaker: BreakerSettings;
  disableAfterMs: number;
  random?: () => number;
}

export type AttemptOutcome = 'delivered' | 'retry' | 'dead' | 'cancelled' | 'disabled';

/** At most this many attempts recorded in one transaction. */
const MAX_ATTEMPTS_PER_COMMIT = 64;

/**
 * What a group's transaction writes once for all its attempts: subscriptions known healthy in it (marked
 * once, not per attempt; a failure in between forgets it), and the delivered deliveries and attempt rows
 * (one multi-row statement each, after the attempts were judged in order).
 */
interface GroupWrites {
  healthy: Set<string>;
  delivered: Array<{ deliveryId: string; statusCode: number | null }>;
  attempts: AttemptRow[];
}

interface FinishedAttempt {
  d: ClaimedDelivery;
  r: AttemptResult;
  startedAt: number;
  latencyMs: number;
  address: string | null;
  /** When the answer was judged (retry delays and the breaker count from here). */
  now: number;
}

/**
 * One attempt's bookkeeping, in one transaction with its delivery events:
 * the attempt row, the delivery's next state (delivered, rescheduled on the
 * retry schedule or Retry-After, dead), the subscription's breaker and health
 * (410 or failing for too long disables the endpoint, with an event).
 *
 * Attempts that finish while another group is being recorded are recorded together, in one
 * transaction (GroupCommit): with many deliveries in flight, a transaction — its round trips, its
 * outbox write and its WAL flush — per attempt was most of the notifier's cost per message. Each
 * attempt keeps its own origin (its receipt's ids and correlation id); an attempt alone is recorded
 * at once; if a group fails, each attempt is recorded on its own.
 */
export class RecordAttemptHandler {
  private readonly group: GroupCommit<FinishedAttempt, AttemptOutcome>;

  constructor(
    private readonly tx: TransactionRunner,
    private readonly deliveries: DeliveryStore,
    private readonly receipts: DeliveryReceipts,
    private readonly policy: AttemptPolicy,
  ) {
    this.group = new GroupCommit<FinishedAttempt, AttemptOutcome>({
      maxWeight: MAX_ATTEMPTS_PER_COMMIT,
      commit: (attempts) =>
        this.tx.inTransactionEach(attempts.map((a) => this.origin(a.d)), async (contexts) => {
          const writes: GroupWrites = { healthy: new Set(), delivered: [], attempts: [] };
          const outcomes: AttemptOutcome[] = [];
          for (let i = 0; i < attempts.length; i++) outcomes.push(await this.recordOne(contexts[i], attempts[i], writes));
          // Rows of their own per attempt (the delivery, the attempt): written for the whole group at once.
          await this.deliveries.finishDelivered(contexts[0].uow, writes.delivered);
          await this.deliveries.recordAttempts(contexts[0].uow, writes.attempts);
          return outcomes;
        }),
    });
  }

  private origin(d: ClaimedDelivery): EventOrigin {
    return { id: `${d.deliveryId}:attempt:${d.attempts}`, correlationId: d.correlationId, causationId: d.sourceEventId, tier: d.tier, receivedAt: d.receivedAt ?? undefined };
  }

  /** The decision behind it was revoked before this attempt: cancelled, never sent. */
  async cancelRevoked(d: ClaimedDelivery): Promise<void> {
    await this.tx.inTransaction(this.origin(d), async (ctx) => {
      await this.deliveries.finish(ctx.uow, d.deliveryId, 'cancelled', 'DECISION_REVOKED', null, null);
      this.receipts.emit(ctx, d, 'CANCELLED', 'DECISION_REVOKED', null);
    });
  }

  async record(d: ClaimedDelivery, r: AttemptResult, startedAt: number, latencyMs: number, address: string | null): Promise<AttemptOutcome> {
    return this.group.submit({ d, r, startedAt, latencyMs, address, now: Date.now() });
  }

  private async recordOne(ctx: EventContext, { d, r, startedAt, latencyMs, address, now }: FinishedAttempt, writes: GroupWrites): Promise<AttemptOutcome> {
    const { healthy } = writes;
    const verdict = judgeAttempt(r, now);
    const error = r.error ?? (verdict.kind === 'delivered' ? null : verdict.reason);
    let outcome: AttemptOutcome;
    if (verdict.kind === 'delivered' || verdict.kind === 'abort') {
      // The endpoint answered as designed: it is healthy (an abort is the subscriber's choice about one message).
      if (!healthy.has(d.subscriptionId)) {
        await this.deliveries.markHealthy(ctx.uow, d.subscriptionId);
        healthy.add(d.subscriptionId);
      }
      ctx.uow.afterCommit(() => void this.deliveries.noteSuccess(d.subscriptionId));
    } else {
      healthy.delete(d.subscriptionId);
      const health = await this.deliveries.lockHealth(ctx.uow, d.subscriptionId);
      const failingSince = health.failingSince ?? now;
      await this.deliveries.saveHealth(ctx.uow, d.subscriptionId, { breaker: afterFailure(health.breaker, this.policy.breaker, now), failingSince, success: false });
      if (verdict.kind === 'gone' || now - failingSince >= this.policy.disableAfterMs) {
        if (health.status !== 'disabled') await this.disable(ctx, d, verdict.kind === 'gone' ? 'HTTP_410' : 'FAILING_TOO_LONG');
      }
    }
    if (verdict.kind === 'delivered') {
      writes.delivered.push({ deliveryId: d.deliveryId, statusCode: r.status });
      if (d.eventType === 'fhir.handshake') await this.deliveries.markFhirActive(ctx.uow, d.subscriptionId, 'active');
      this.receipts.emit(ctx, d, 'DELIVERED', null, r.status);
      outcome = 'delivered';
    } else if (verdict.kind === 'retry') {
      const scheduled = retryDelayMs(d.attempts - d.attemptBase, this.policy.retryScheduleMs, this.policy.jitter, this.policy.random);
      if (scheduled === null) {
        await this.dead(ctx, d, 'RETRIES_EXHAUSTED', r.status, error);
        outcome = 'dead';
      } else {
        const delay = verdict.retryAfterMs !== null ? Math.min(verdict.retryAfterMs, this.policy.maxRetryAfterMs) : scheduled;
        await this.deliveries.reschedule(ctx.uow, d.deliveryId, delay, r.status, error);
        outcome = 'retry';
      }
    } else {
      await this.dead(ctx, d, verdict.reason, r.status, error);
      outcome = verdict.kind === 'gone' ? 'disabled' : 'dead';
    }
    writes.attempts.push({ deliveryId: d.deliveryId, attempt: d.attempts, startedAt, statusCode: r.status, latencyMs, error, outcome, address });
    return outcome;
  }

  private async dead(ctx: EventContext, d: ClaimedDelivery, reason: string, status: number | null, error: string | null): Promise<void> {
    await this.deliveries.finish(ctx.uow, d.deliveryId, 'dead', reason, status, error);
    if (d.eventType === 'fhir.handshake') await this.deliveries.markFhirActive(ctx.uow, d.subscriptionId, 'error');
    this.receipts.emit(ctx, d, 'DEAD', reason, status);
    this.receipts.operations(ctx, 'NOTIFIER.DELIVERY_DEAD', `delivery ${d.deliveryId} is dead (${reason}) after ${d.attempts} attempts`, d);
  }

  private async disable(ctx: EventContext, d: ClaimedDelivery, reason: string): Promise<void> {
    await this.deliveries.disableSubscription(ctx.uow, d.subscriptionId, reason);
    this.receipts.emit(ctx, { ...d, deliveryId: `endpoint:${d.subscriptionId}` }, 'ENDPOINT_DISABLED', reason, null);
    this.receipts.operations(ctx, 'NOTIFIER.ENDPOINT_DISABLED', `subscription ${d.subscriptionId} disabled (${reason})`, { subscriptionId: d.subscriptionId });
  }
}
