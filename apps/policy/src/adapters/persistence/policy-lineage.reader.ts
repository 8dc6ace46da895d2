import type { INestApplication } from '@nestjs/common';
import type { LineageContributor, LineageItem, ServiceContext } from '@clinmesh/service-kit';
import { lineageTime } from '@clinmesh/service-kit';

/** Policy's part of GET /v1/lineage/{correlationId}: every per-audience decision with its reasons. */
export function policyLineage(_app: INestApplication, ctx: ServiceContext): LineageContributor {
  return {
    async contribute(correlationId: string): Promise<LineageItem[]> {
      const rows: Array<Record<string, unknown>> = await ctx.dataSource.query(
        `SELECT decision_id, epid, audience, effect, purpose, projection, rule_ids, consent_decision, labels, tier, original_tier, critical, workflows,
                routed_event_id, reason, explanation, revoked_at, revoked_reason, decided_at, policy_version
           FROM pl_decision WHERE correlation_id = $1 ORDER BY decided_at, audience`,
        [correlationId],
      );
      return rows.map((d) => ({
        kind: 'policy-decision', id: String(d.decision_id), at: lineageTime(d.decided_at), epid: (d.epid as string) ?? null,
        summary: `${d.effect} for ${d.audience} (${d.purpose}, ${d.projection}): ${d.reason}`,
        data: {
          audience: d.audience, effect: d.effect, purpose: d.purpose, projection: d.projection, ruleIds: d.rule_ids, consentDecision: d.consent_decision,
          labels: d.labels, tier: d.tier, originalTier: d.original_tier, critical: d.critical, workflows: d.workflows, routedEventId: d.routed_event_id,
          reason: d.reason, explanation: d.explanation, policyVersion: d.policy_version, revokedAt: lineageTime(d.revoked_at), revokedReason: d.revoked_reason,
        },
      }));
    },
  };
}
