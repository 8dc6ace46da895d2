import { Counter, Histogram } from 'prom-client';
import { EventRuntime } from '@clinmesh/event-runtime';
import { EVENT_TOPICS, Tier } from '@clinmesh/topology';
import type { DeliveryEvent } from '@clinmesh/schemas';
import { Logger, RuntimeMetrics, withLogContext } from '@clinmesh/observability';
import { CircuitBreaker, MAX_ATTEMPTS, isPermanentFailure, nextAttemptDelayMs } from '../../domain/delivery-policy';
import { signWebhook } from '../../domain/webhook-signature';
import { SubscriptionRepository } from '../persistence/subscription.repository';

interface ClaimedDelivery {
  delivery_id: string;
  subscription_id: string;
  url: string;
  payload: Record<string, unknown>;
  attempts: number;
  tier: Tier;
  correlation_id: string;
  source_event_id: string;
  received_at: string | null;
}

/**
 * Durable webhook delivery: claims due deliveries with a lease (FOR UPDATE
 * SKIP LOCKED, so replicas share the work and a crashed worker's lease
 * expires and is retried), POSTs them HMAC-signed with the delivery id as
 * Idempotency-Key, and records the outcome with a delivery receipt event in
 * one transaction. At-least-once: a crash after the POST and before the
 * update redelivers, and the subscriber dedupes by the key.
 */
export class WebhookDeliveryWorker {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private readonly circuits = new Map<string, CircuitBreaker>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly deliveries: Counter<'tier' | 'outcome'>;
  private readonly latency: Histogram<'tier'>;

  constructor(
    private readonly runtime: EventRuntime,
    private readonly subscriptions: SubscriptionRepository,
    metrics: RuntimeMetrics,
    private readonly logger: Logger,
    private readonly options: { concurrency: number; leaseSeconds: number; timeoutMs: number; pollMs: number },
  ) {
    this.deliveries = new Counter({ name: 'clinmesh_webhook_deliveries_total', help: 'Webhook delivery attempts by outcome (delivered, retry, dead, circuit_open)', labelNames: ['tier', 'outcome'], registers: [metrics.registry] });
    this.latency = new Histogram({ name: 'clinmesh_webhook_end_to_end_seconds', help: 'Original message receipt at ingest → webhook acknowledged', labelNames: ['tier'], buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120], registers: [metrics.registry] });
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  notify(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await Promise.all(this.inFlight);
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const free = this.options.concurrency - this.inFlight.size;
        const claimed = free > 0 ? await this.claim(free) : [];
        for (const d of claimed) {
          const p = this.deliver(d).catch((error) => {
            // The lease expires and the delivery is retried; never let one delivery take the worker down.
            this.logger.error({ deliveryId: d.delivery_id, err: String((error as Error)?.message ?? error) }, 'delivery bookkeeping failed');
          }).finally(() => {
            this.inFlight.delete(p);
            this.wake?.();
          });
          this.inFlight.add(p);
        }
        if (!claimed.length || free <= claimed.length) await this.sleep(this.options.pollMs);
      } catch (error) {
        this.logger.warn({ err: String((error as Error)?.message ?? error) }, 'delivery claim failed');
        await this.sleep(1000);
      }
    }
  }

  private async claim(limit: number): Promise<ClaimedDelivery[]> {
    const open = [...this.circuits.entries()].filter(([, c]) => !c.allow()).map(([id]) => id);
    return this.runtime.dataSource.query(
      // Wrapped in a CTE so the driver returns the rows (TypeORM returns [rows, count] for a bare UPDATE).
      `WITH claimed AS (UPDATE nf_delivery d SET status = 'in_flight', lease_until = now() + make_interval(secs => $2), attempts = d.attempts + 1
       FROM nf_subscription s
       WHERE s.id = d.subscription_id AND d.delivery_id IN (
         SELECT delivery_id FROM nf_delivery
         WHERE ((status = 'pending' AND next_attempt_at <= now()) OR (status = 'in_flight' AND lease_until < now()))
           AND NOT (subscription_id = ANY($3::text[]))
         ORDER BY tier_rank, next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING d.delivery_id, d.subscription_id, s.url, d.payload, d.attempts, d.tier, d.correlation_id, d.source_event_id, d.received_at)
       SELECT * FROM claimed`,
      [limit, this.options.leaseSeconds, open],
    );
  }

  private async deliver(d: ClaimedDelivery): Promise<void> {
    await withLogContext({ correlationId: d.correlation_id }, async () => {
      const circuit = this.circuitFor(d.subscription_id);
      const body = JSON.stringify(d.payload);
      let status: number | null = null;
      let error: string | null = null;
      try {
        const secret = await this.subscriptions.secretOf(d.subscription_id);
        const res = await fetch(d.url, {
          method: 'POST',
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(this.options.timeoutMs),
          headers: {
            'content-type': 'application/json',
            'user-agent': 'clinmesh-notifier/0.1',
            'clinmesh-signature': signWebhook(secret, Math.floor(Date.now() / 1000), body),
            'clinmesh-delivery-id': d.delivery_id,
            'idempotency-key': d.delivery_id,
            'clinmesh-event-id': d.source_event_id,
            'clinmesh-correlation-id': d.correlation_id,
            'clinmesh-attempt': String(d.attempts),
          },
        });
        status = res.status;
        await res.arrayBuffer().catch(() => undefined);
      } catch (e) {
        error = String((e as Error)?.message ?? e).slice(0, 300);
      }
      const ok = status !== null && status >= 200 && status < 300;
      if (ok) circuit.success();
      else circuit.failure();
      const dead = !ok && (isPermanentFailure(status) || d.attempts >= MAX_ATTEMPTS);
      await this.record(d, ok ? 'delivered' : dead ? 'dead' : 'pending', status, error);
      this.deliveries.inc({ tier: d.tier, outcome: ok ? 'delivered' : dead ? 'dead' : 'retry' });
      if (ok && d.received_at) this.latency.observe({ tier: d.tier }, (Date.now() - new Date(d.received_at).getTime()) / 1000);
      if (!ok) this.logger.warn({ deliveryId: d.delivery_id, subscriptionId: d.subscription_id, status, error, attempts: d.attempts, dead }, 'webhook delivery failed');
    });
  }

  private async record(d: ClaimedDelivery, outcome: 'delivered' | 'dead' | 'pending', status: number | null, error: string | null): Promise<void> {
    const origin = {
      id: d.delivery_id, correlationId: d.correlation_id, causationId: d.source_event_id, tier: d.tier,
      receivedAt: d.received_at ? new Date(d.received_at).getTime() : undefined,
    };
    await this.runtime.inTransaction(origin, async (ctx) => {
      await ctx.uow.execute(
        `UPDATE nf_delivery SET status = $2, last_status = $3, last_error = $4, lease_until = NULL,
           delivered_at = CASE WHEN $2 = 'delivered' THEN now() ELSE delivered_at END,
           next_attempt_at = CASE WHEN $2 = 'pending' THEN now() + make_interval(secs => $5::double precision / 1000) ELSE next_attempt_at END
         WHERE delivery_id = $1`,
        [d.delivery_id, outcome, status, error, nextAttemptDelayMs(d.attempts)],
      );
      if (outcome === 'pending') return;
      const receipt: DeliveryEvent = {
        eventId: ctx.deriveEventId(`receipt:${outcome}`),
        correlationId: d.correlation_id,
        deliveryId: d.delivery_id,
        subscriptionId: d.subscription_id,
        sourceEventId: d.source_event_id,
        status: outcome === 'delivered' ? 'DELIVERED' : 'DEAD',
        attempts: d.attempts,
        httpStatus: status,
        at: Date.now(),
      };
      ctx.emit({ topic: EVENT_TOPICS.delivery, key: d.subscription_id, value: receipt });
    });
  }

  private circuitFor(id: string): CircuitBreaker {
    let c = this.circuits.get(id);
    if (!c) this.circuits.set(id, (c = new CircuitBreaker()));
    return c;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.wake = null; resolve(); }, ms);
      this.wake = () => { clearTimeout(t); this.wake = null; resolve(); };
    });
  }
}
