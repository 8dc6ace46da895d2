import { Counter, Histogram } from 'prom-client';
import { DEFAULT_BULK_PACING, WakeSignal } from '@clinmesh/event-runtime';
import { TIER_RANK } from '@clinmesh/topology';
import { Logger, RuntimeMetrics } from '@clinmesh/observability';
import { signatureHeader } from '../../domain/webhook-signature';
import type { AttemptResult } from '../../domain/retry-schedule';
import type { ClaimedDelivery } from '../../application/notifier.ports';
import { RecordAttemptHandler } from '../../application/record-attempt.handler';
import { DeliveryRepository } from '../persistence/delivery.repository';
import { SecretBox } from '../persistence/secret-box';
import { PinnedHttpClient } from './pinned-http.client';
import { BulkDeliveryPacer } from './bulk-delivery.pacer';

export interface WorkerOptions {
  concurrency: number;
  /** In-flight attempts per subscription (isolation: a hanging endpoint holds at most this many slots). */
  perSubscription: number;
  leaseSeconds: number;
  timeoutMs: number;
  pollMs: number;
  /**
   * How often, at most, the loop looks for half-open probes (default 250 ms). The look is a
   * transaction of its own (three round trips) and ran before every claim — under load once per
   * finished attempt — while a breaker's open period is seconds long.
   */
  probeEveryMs?: number;
}

/**
 * Durable delivery loop: claims due deliveries (FOR UPDATE SKIP LOCKED, so
 * replicas share the work; a crashed worker's lease expires and the delivery
 * is claimed again), half-open probes one per subscription, checks the
 * revocation and the SSRF guard before every attempt, sends per Standard
 * Webhooks, and hands the answer to the attempt handler. Bulk deliveries give
 * way to stat and urgent work (BulkDeliveryPacer).
 */
export class DeliveryWorker {
  private running = false;
  private loop: Promise<void> | null = null;
  /** Cut short by notify(); a notify while the loop claims is kept (the claim may have missed the new rows). */
  private readonly signal = new WakeSignal();
  private readonly inFlight = new Set<Promise<void>>();
  private lastProbeLookAt = Number.NEGATIVE_INFINITY;
  private readonly outcomes: Counter<string>;
  private readonly latency: Histogram<string>;
  private readonly attemptSeconds: Histogram<string>;

  constructor(
    private readonly deliveries: DeliveryRepository,
    private readonly attempts: RecordAttemptHandler,
    private readonly http: PinnedHttpClient,
    private readonly secrets: SecretBox,
    metrics: RuntimeMetrics,
    private readonly logger: Logger,
    private readonly options: WorkerOptions,
    private readonly pacer: BulkDeliveryPacer = new BulkDeliveryPacer(DEFAULT_BULK_PACING),
  ) {
    this.outcomes = new Counter({ name: 'clinmesh_webhook_deliveries_total', help: 'Delivery attempts by outcome', labelNames: ['tier', 'outcome'], registers: [metrics.registry] });
    this.latency = new Histogram({ name: 'clinmesh_webhook_end_to_end_seconds', help: 'Original message receipt at ingest → webhook acknowledged', labelNames: ['tier'], buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120], registers: [metrics.registry] });
    this.attemptSeconds = new Histogram({ name: 'clinmesh_webhook_attempt_seconds', help: 'Duration of one webhook attempt', labelNames: ['outcome'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15], registers: [metrics.registry] });
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  notify(): void {
    this.signal.notify();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.signal.notify();
    await this.loop;
    await Promise.all(this.inFlight);
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        this.signal.take();
        const free = this.options.concurrency - this.inFlight.size;
        // Bulk gives way to stat and urgent work (bulk-delivery.pacer.ts): held, or a bounded round.
        const bulk = this.pacer.bulkAllowance();
        const limit = Math.min(free, bulk > 0 ? bulk : free);
        const due = free > 0
          ? await this.deliveries.claimDue(limit, this.options.leaseSeconds, this.options.perSubscription, bulk > 0 ? TIER_RANK.bulk : TIER_RANK.routine)
          : [];
        this.dispatch(due);
        // Half-open probes after the due deliveries are on their way: the look is a transaction of its own (three
        // round trips), and before the claim a stat delivery waited for it on most wake-ups of an idle worker.
        const probes = this.probeDue() ? await this.deliveries.claimProbes(this.options.leaseSeconds) : [];
        this.dispatch(probes);
        const claimed = [...due, ...probes];
        // Claim again at once only when the claim was cut by its limit (more may be due). A claim that took
        // fewer took everything due: what comes next comes with a notify (a fan-out commit, a finished
        // attempt freeing a patient's or a subscription's turn; kept if it came during the claim) or with
        // the poll (retries falling due, other replicas' rows). Re-claiming after every claim doubled the
        // claims: 1,850 for 3,819 deliveries, the notifier's costliest statement (pg_stat_statements).
        if (!claimed.length || this.inFlight.size >= this.options.concurrency || due.length < limit) {
          // Held bulk is claimed again when its hold ends, without waiting for the poll.
          const held = this.pacer.holdRemainingMs();
          await this.signal.sleep(held > 0 ? Math.min(held, this.options.pollMs) : this.options.pollMs);
        }
      } catch (error) {
        this.logger.warn({ err: String((error as Error)?.message ?? error) }, 'delivery claim failed');
        await this.signal.sleep(1000, { evenIfNotified: true });
      }
    }
  }

  /** Starts delivering what was claimed; each finished attempt wakes the loop (a turn may have freed up). */
  private dispatch(claimed: ClaimedDelivery[]): void {
    this.pacer.claimed(claimed.map((d) => d.tier));
    for (const d of claimed) {
      const p = this.deliver(d).catch((error) => {
        // The lease expires and the delivery is claimed again; one delivery never takes the worker down.
        this.logger.error({ correlationId: d.correlationId, deliveryId: d.deliveryId, err: String((error as Error)?.message ?? error) }, 'delivery bookkeeping failed');
      }).finally(() => {
        this.inFlight.delete(p);
        if (d.tier === 'bulk') this.pacer.bulkFinished();
        this.notify();
      });
      this.inFlight.add(p);
    }
  }

  private probeDue(): boolean {
    const now = Date.now();
    if (now - this.lastProbeLookAt < (this.options.probeEveryMs ?? 250)) return false;
    this.lastProbeLookAt = now;
    return true;
  }

  private async deliver(d: ClaimedDelivery): Promise<void> {
    if (d.revoked) {
      await this.attempts.cancelRevoked(d);
      this.outcomes.inc({ tier: d.tier, outcome: 'cancelled' });
      this.logger.info({ correlationId: d.correlationId, deliveryId: d.deliveryId, subscriptionId: d.subscriptionId }, 'delivery cancelled: its decision was revoked');
      return;
    }
    const startedAt = Date.now();
    const target = await this.http.check(d.url);
    let result: AttemptResult;
    let address: string | null = null;
    if (!target.ok) {
      result = { status: null, headers: {}, error: target.reason, errorCode: target.code };
    } else {
      address = target.address;
      const body = JSON.stringify(d.payload);
      const secrets = [this.secrets.open(d.secretSealed), ...(d.previousSecretSealed ? [this.secrets.open(d.previousSecretSealed)] : [])];
      const ts = Math.floor(Date.now() / 1000);
      const headers: Record<string, string> = {
        'content-type': d.kind === 'fhir' ? 'application/fhir+json' : 'application/json',
        'user-agent': 'clinmesh-notifier/2',
        'webhook-id': d.deliveryId,
        'webhook-timestamp': String(ts),
        'webhook-signature': signatureHeader(secrets, d.deliveryId, ts, body),
        'clinmesh-event-id': d.sourceEventId,
        'clinmesh-correlation-id': d.correlationId,
        'clinmesh-attempt': String(d.attempts),
      };
      for (const h of d.fhirHeaders) {
        const i = h.indexOf(':');
        if (i > 0 && !/^(host|content-length|webhook-)/i.test(h.slice(0, i).trim())) headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
      }
      result = await this.http.post(target, body, headers, this.options.timeoutMs);
      if (result.status !== null && result.status >= 300 && result.status < 400) {
        result = { ...result, error: `redirect (${result.status}) to ${safeLocation(result.headers.location)} not followed`, errorCode: 'REDIRECT_NOT_FOLLOWED' };
      }
    }
    const latencyMs = Date.now() - startedAt;
    const outcome = await this.attempts.record(d, result, startedAt, latencyMs, address);
    this.outcomes.inc({ tier: d.tier, outcome });
    this.attemptSeconds.observe({ outcome }, latencyMs / 1000);
    if (outcome === 'delivered' && d.receivedAt) this.latency.observe({ tier: d.tier }, (Date.now() - d.receivedAt) / 1000);
    if (outcome !== 'delivered') {
      this.logger.warn({ correlationId: d.correlationId, deliveryId: d.deliveryId, subscriptionId: d.subscriptionId, status: result.status, error: result.error, attempts: d.attempts, probe: d.probe, outcome }, 'webhook attempt failed');
    }
  }
}

/** Only scheme and host of a redirect target are kept (paths may carry identifiers). */
function safeLocation(location: string | undefined): string {
  if (!location) return '(no location)';
  try {
    const u = new URL(location);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(unreadable location)';
  }
}
