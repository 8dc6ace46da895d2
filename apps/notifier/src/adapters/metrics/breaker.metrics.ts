import { Gauge } from 'prom-client';
import type { RuntimeMetrics } from '@clinmesh/observability';
import type { SubscriptionRepository } from '../persistence/subscription.repository';

/**
 * `clinmesh_webhook_breaker_open{subscription}`: 1 while a subscription's circuit breaker is open or
 * half-open (probing), 0 when closed. Read from the subscription table at scrape time, because the
 * breaker lives in the database (shared by replicas), not in this process. Subscription ids carry no PHI.
 */
export function registerBreakerGauge(metrics: RuntimeMetrics, subscriptions: Pick<SubscriptionRepository, 'list'>): Gauge<string> {
  return new Gauge({
    name: 'clinmesh_webhook_breaker_open',
    help: 'Webhook circuit breaker per subscription: 1 open or half-open, 0 closed',
    labelNames: ['subscription'],
    registers: [metrics.registry],
    async collect() {
      const all = await subscriptions.list('webhook');
      this.reset();
      for (const s of all) this.set({ subscription: s.id }, s.health.breaker === 'closed' ? 0 : 1);
    },
  });
}
