import { Controller, Get, Inject, Param, Req } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ClinmeshError } from '@clinmesh/errors';
import { AuditTrail, Principal, SCOPES } from '@clinmesh/security';
import { AUDIT_TRAIL, DATA_SOURCE, RequireScopes } from '@clinmesh/service-kit';

/** Explains a routing decision by routed event id or correlation id (an audited read). */
@Controller('v1/decisions')
export class DecisionController {
  constructor(@Inject(DATA_SOURCE) private readonly db: DataSource, @Inject(AUDIT_TRAIL) private readonly audit: AuditTrail) {}

  @RequireScopes(SCOPES.policyRead)
  @Get(':id')
  async get(@Param('id') id: string, @Req() req: { principal: Principal; headers: Record<string, string> }) {
    const rows = await this.db.query('SELECT * FROM pl_decision WHERE event_id = $1 OR correlation_id = $1 ORDER BY decided_at', [id]);
    await this.audit.record({ actor: req.principal.subject, action: 'read-decision', resource: id, patientRef: rows[0]?.epid ?? null, purpose: req.headers['x-purpose-of-use'] ?? null, outcome: 'allowed' });
    if (!rows.length) throw new ClinmeshError('POLICY.DECISION_NOT_FOUND', `no decision for ${id}`, { status: 404 });
    return rows.map((r: Record<string, unknown>) => ({
      eventId: r.event_id, correlationId: r.correlation_id, epid: r.epid, policyVersion: r.policy_version, ruleIds: r.rule_ids,
      workflows: r.workflows, audiences: r.audiences, tier: r.tier, originalTier: r.original_tier, explanation: r.explanation, decidedAt: r.decided_at,
    }));
  }
}
