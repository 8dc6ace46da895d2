import type { INestApplication } from '@nestjs/common';
import type { LineageContributor, LineageItem, ServiceContext } from '@clinmesh/service-kit';
import { lineageTime } from '@clinmesh/service-kit';

/** Notifier's part of GET /v1/lineage/{correlationId}: every delivery with every attempt. */
export function notifierLineage(_app: INestApplication, ctx: ServiceContext): LineageContributor {
  return {
    async contribute(correlationId: string): Promise<LineageItem[]> {
      const deliveries: Array<Record<string, unknown>> = await ctx.dataSource.query(
        `SELECT d.delivery_id, d.subscription_id, s.name AS subscription_name, d.event_type, d.tier, d.epid, d.decision_id, d.status, d.attempts,
                d.end_reason, d.last_status, d.last_error, d.created_at, d.finished_at
           FROM nf_delivery d LEFT JOIN nf_subscription s ON s.id = d.subscription_id WHERE d.correlation_id = $1 ORDER BY d.created_at`,
        [correlationId],
      );
      if (!deliveries.length) return [];
      const attempts: Array<Record<string, unknown>> = await ctx.dataSource.query(
        'SELECT delivery_id, attempt, started_at, status_code, latency_ms, error, outcome FROM nf_attempt WHERE delivery_id = ANY($1) ORDER BY delivery_id, attempt',
        [deliveries.map((d) => d.delivery_id)],
      );
      return deliveries.map((d) => ({
        kind: 'delivery', id: String(d.delivery_id), at: lineageTime(d.created_at), epid: (d.epid as string) ?? null,
        summary: `${d.event_type} to ${d.subscription_name ?? d.subscription_id}: ${d.status} after ${d.attempts} attempt(s)`,
        data: {
          subscriptionId: d.subscription_id, subscription: d.subscription_name, eventType: d.event_type, tier: d.tier, decisionId: d.decision_id,
          status: d.status, endReason: d.end_reason, lastStatus: d.last_status, lastError: d.last_error, finishedAt: lineageTime(d.finished_at),
          attempts: attempts.filter((a) => a.delivery_id === d.delivery_id).map((a) => ({
            attempt: Number(a.attempt), startedAt: lineageTime(a.started_at), statusCode: a.status_code, latencyMs: Number(a.latency_ms), error: a.error, outcome: a.outcome,
          })),
        },
      }));
    },
  };
}
