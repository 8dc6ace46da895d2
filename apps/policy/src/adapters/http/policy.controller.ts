import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Post, Put, Query, Req, Res } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ClinmeshError } from '@clinmesh/errors';
import { AuditTrail, Principal, SCOPES } from '@clinmesh/security';
import { AUDIT_TRAIL, DATA_SOURCE, RequireScopes, ifMatchTag } from '@clinmesh/service-kit';
import { BreakGlassService } from '../../application/break-glass';
import { parsePatientToken, patientKeys } from '../../application/consents';
import { PolicyAdmin } from '../../application/policy-admin';
import type { PolicyStore } from '../../application/policy-store';
import type { StoresFactory } from '../../application/ports';
import type { CompiledPolicy } from '../../domain/policy-set';
import type { PolicyConfig } from '../../config/policy.config';
import { BREAK_GLASS, POLICY_ADMIN, POLICY_CONFIG, POLICY_STORE, POLICY_STORES, REJECTIONS } from './policy.tokens';
import { RejectionRecorder } from './rejections';

interface Reply { setHeader(k: string, v: string): void }

function summary(p: CompiledPolicy) {
  return {
    version: p.version, description: p.set.description ?? null,
    audiences: Object.fromEntries(Object.entries(p.set.audiences).map(([k, a]) => [k, { ...a, projection: { name: a.projection, ...p.set.projections[a.projection] } }])),
    routing: p.set.routing, rules: p.set.rules,
    valueSets: p.set.valueSets.map((v) => ({ id: v.id, label: v.label, description: v.description, source: v.source, codes: v.codes.length, codePrefixes: (v.codePrefixes ?? []).flatMap((c) => c.prefixes).length })),
  };
}

/** The active policy version, operator activation, shadow mode; decisions, break-glass and the accounting of disclosures. */
@Controller('v1')
export class PolicyController {
  constructor(
    @Inject(POLICY_STORE) private readonly store: PolicyStore,
    @Inject(POLICY_ADMIN) private readonly admin: PolicyAdmin,
    @Inject(BREAK_GLASS) private readonly breakGlass: BreakGlassService,
    @Inject(POLICY_STORES) private readonly stores: StoresFactory,
    @Inject(POLICY_CONFIG) private readonly config: PolicyConfig & { patientKeySecret: string },
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(AUDIT_TRAIL) private readonly audit: AuditTrail,
    @Inject(REJECTIONS) private readonly rejections: RejectionRecorder,
  ) {}

  @RequireScopes(SCOPES.policyRead)
  @Get('policy')
  policy(@Res({ passthrough: true }) res: Reply) {
    res.setHeader('ETag', `"${this.store.active.version}"`);
    return { active: { ...summary(this.store.active), activatedAt: this.store.since.toISOString() }, candidate: this.store.candidate ? { version: this.store.candidate.version } : null };
  }

  /** Activates a new version now (If-Match: the active version). 422 lists every problem of the document. */
  @RequireScopes(SCOPES.policyWrite)
  @Put('policy')
  async activate(@Body() body: unknown, @Headers('if-match') ifMatch: string | undefined, @Req() req: { principal: Principal }, @Res({ passthrough: true }) res: Reply) {
    const p = await this.rejections.guard('policy', req.principal.subject, async () => {
      this.requireMatch(ifMatch, this.store.active.version);
      return this.admin.activate(body, req.principal.subject);
    });
    res.setHeader('ETag', `"${p.version}"`);
    return { active: { version: p.version } };
  }

  @RequireScopes(SCOPES.policyWrite)
  @Post('policy/shadow')
  @HttpCode(201)
  async shadow(@Body() body: unknown, @Req() req: { principal: Principal }, @Res({ passthrough: true }) res: Reply) {
    const p = await this.rejections.guard('policy', req.principal.subject, () => this.admin.loadCandidate(body, req.principal.subject));
    res.setHeader('ETag', `"${p.version}"`);
    return { candidate: { version: p.version }, active: { version: this.store.active.version } };
  }

  @RequireScopes(SCOPES.policyRead)
  @Get('policy/shadow/diff')
  async diff(@Query('limit') limit?: string) {
    const candidate = this.store.candidate;
    if (!candidate) throw new ClinmeshError('POLICY.NO_CANDIDATE', 'no candidate policy version is in shadow mode', { status: 404 });
    const s = this.stores(this.db);
    const n = Math.min(Math.max(Number(limit ?? 100) || 100, 1), 1000);
    return { candidate: candidate.version, active: this.store.active.version, differences: await s.shadow.count(candidate.version), items: await s.shadow.list(candidate.version, n) };
  }

  @RequireScopes(SCOPES.policyWrite)
  @Post('policy/shadow/promote')
  async promote(@Headers('if-match') ifMatch: string | undefined, @Req() req: { principal: Principal }, @Res({ passthrough: true }) res: Reply) {
    const p = await this.admin.promote(req.principal.subject, ifMatchTag(ifMatch));
    res.setHeader('ETag', `"${p.version}"`);
    return { active: { version: p.version } };
  }

  @RequireScopes(SCOPES.policyWrite)
  @Delete('policy/shadow')
  async discard(@Headers('if-match') ifMatch: string | undefined) {
    return { discarded: await this.admin.discard(ifMatchTag(ifMatch)) };
  }

  @RequireScopes(SCOPES.decisionsRead)
  @Get('decisions')
  async decisions(@Query('correlationId') correlationId: string | undefined, @Req() req: { principal: Principal }) {
    if (!correlationId) throw new ClinmeshError('POLICY.CORRELATION_ID_REQUIRED', 'correlationId is required', { status: 400 });
    const rows = await this.stores(this.db).decisions.byCorrelation(correlationId);
    await this.audit.record({ actor: req.principal.subject, action: 'read-decisions', resource: correlationId, patientRef: rows[0]?.epid ?? null, purpose: req.principal.purposeOfUse ?? null, outcome: 'allowed' });
    return { correlationId, decisions: rows };
  }

  @RequireScopes(SCOPES.breakGlass)
  @Post('break-glass')
  @HttpCode(201)
  async grant(@Body() body: Record<string, unknown>, @Req() req: { principal: Principal }) {
    const g = await this.rejections.guard('break-glass', req.principal.subject, () => this.breakGlass.grant(body ?? {}, req.principal.subject));
    await this.audit.record({ actor: req.principal.subject, action: 'break-glass', resource: `grant/${g.id}`, patientRef: g.epid, purpose: 'BTG', outcome: 'allowed', details: { audience: g.audience, expiresAt: g.expiresAt } });
    return g;
  }

  /** HIPAA accounting of disclosures: what was released, to whom, when, why (decisions + DELIVERED delivery events). */
  @RequireScopes(SCOPES.disclosuresRead)
  @Get('disclosures')
  async disclosures(@Query('patient') patient: string | undefined, @Req() req: { principal: Principal }) {
    const { system, value } = parsePatientToken(patient);
    const s = this.stores(this.db);
    const epids = await s.identities.epidsOf(patientKeys(this.store, this.config.patientKeySecret, system, value));
    const rows = epids.length ? await s.decisions.disclosures(epids, 1000) : [];
    await this.audit.record({ actor: req.principal.subject, action: 'accounting-of-disclosures', resource: 'disclosures', patientRef: epids[0] ?? null, purpose: req.principal.purposeOfUse ?? null, outcome: 'allowed' });
    return {
      patient: { system }, total: rows.length,
      disclosures: rows.map((d) => ({
        decisionId: d.decisionId, audience: d.audience, purposeOfUse: d.purpose, decidedAt: d.decidedAt, deliveries: d.deliveries, what: { resourceType: d.resourceType, projection: d.projection, effect: d.effect, withheldLabels: d.withheldLabels },
        why: d.reason, policyVersion: d.policyVersion, ruleIds: d.ruleIds, consentId: d.consentId, breakGlassGrantId: d.grantId, revokedAt: d.revokedAt, correlationId: d.correlationId,
      })),
    };
  }

  private requireMatch(ifMatch: string | undefined, version: string): void {
    if (!ifMatch) throw new ClinmeshError('POLICY.PRECONDITION_REQUIRED', 'If-Match with the active policy version (GET /v1/policy ETag) is required', { status: 428 });
    if (ifMatchTag(ifMatch) !== version) throw new ClinmeshError('POLICY.VERSION_MISMATCH', `the active version is ${version}`, { status: 412, details: { active: version } });
  }
}
