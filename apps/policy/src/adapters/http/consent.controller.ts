import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ClinmeshError } from '@clinmesh/errors';
import { AuditTrail, Principal, SCOPES } from '@clinmesh/security';
import { AUDIT_TRAIL, DATA_SOURCE, IfMatchErrors, RequireScopes, ifMatchVersion } from '@clinmesh/service-kit';
import { ConsentService, ConsentView, InvalidConsentError } from '../../application/consents';
import { CONSENTS, REJECTIONS } from './policy.tokens';
import { RejectionRecorder } from './rejections';

interface Reply { status(n: number): Reply; setHeader(k: string, v: string): void }

/** The consent version an `If-Match` names (428 without one, 412 when it is not a version). */
const CONSENT_IF_MATCH: IfMatchErrors = {
  missing: () => new ClinmeshError('POLICY.PRECONDITION_REQUIRED', 'If-Match with the consent version (its ETag) is required', { status: 428 }),
  malformed: (raw) => new ClinmeshError('POLICY.VERSION_MISMATCH', `If-Match ${raw} is not a consent version`, { status: 412 }),
};

/**
 * FHIR R4 Consent directives. Invalid Consents are answered with an
 * OperationOutcome listing every issue; reads answer ETag = version, updates
 * take If-Match; reads are audited.
 */
@Controller('v1/consents')
export class ConsentController {
  constructor(
    @Inject(CONSENTS) private readonly consents: ConsentService,
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(AUDIT_TRAIL) private readonly audit: AuditTrail,
    @Inject(REJECTIONS) private readonly rejections: RejectionRecorder,
  ) {}

  @RequireScopes(SCOPES.consentsWrite)
  @Post()
  @HttpCode(201)
  async create(@Body() body: unknown, @Req() req: { principal: Principal }, @Res({ passthrough: true }) res: Reply) {
    return this.fhir(res, () => this.rejections.guard('consent', req.principal.subject, async () => {
      const c = await this.consents.create((body ?? {}) as Record<string, unknown>, req.principal.subject);
      res.setHeader('Location', `/v1/consents/${c.id}`);
      return c;
    }));
  }

  @RequireScopes(SCOPES.consentsWrite)
  @Put(':id')
  async update(@Param('id') id: string, @Body() body: unknown, @Headers('if-match') ifMatch: string | undefined, @Req() req: { principal: Principal }, @Res({ passthrough: true }) res: Reply) {
    return this.fhir(res, () => this.rejections.guard('consent', req.principal.subject, () => this.consents.update(id, ifMatchVersion(ifMatch, CONSENT_IF_MATCH), (body ?? {}) as Record<string, unknown>, req.principal.subject)));
  }

  @RequireScopes(SCOPES.consentsRead)
  @Get(':id')
  async get(@Param('id') id: string, @Req() req: { principal: Principal }, @Res({ passthrough: true }) res: Reply) {
    const c = await this.consents.get(id, this.db);
    await this.audit.record({ actor: req.principal.subject, action: 'read-consent', resource: `Consent/${id}`, patientRef: c.epid, purpose: req.principal.purposeOfUse ?? null, outcome: 'allowed' });
    res.setHeader('ETag', `"${c.version}"`);
    return c;
  }

  @RequireScopes(SCOPES.consentsRead)
  @Get()
  async list(@Query('patient') patient: string | undefined, @Req() req: { principal: Principal }) {
    const consents = await this.consents.list(patient, this.db);
    await this.audit.record({ actor: req.principal.subject, action: 'list-consents', resource: 'Consent', patientRef: consents[0]?.epid ?? null, purpose: req.principal.purposeOfUse ?? null, outcome: 'allowed' });
    return { total: consents.length, consents };
  }

  /** Runs a write; an invalid Consent answers 422 with an OperationOutcome (application/fhir+json). */
  private async fhir(res: Reply, work: () => Promise<ConsentView>): Promise<unknown> {
    try {
      const c = await work();
      res.setHeader('ETag', `"${c.version}"`);
      return c;
    } catch (e) {
      if (!(e instanceof InvalidConsentError)) throw e;
      res.status(422);
      res.setHeader('Content-Type', 'application/fhir+json');
      return {
        resourceType: 'OperationOutcome',
        issue: e.issues.map((i) => ({ severity: i.severity, code: i.code, diagnostics: i.diagnostics, expression: [i.expression], details: { text: i.diagnostics } })),
      };
    }
  }
}
