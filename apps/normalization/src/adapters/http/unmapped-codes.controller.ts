import { Controller, Get, Inject, Query, Req } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ClinmeshError } from '@clinmesh/errors';
import { AuditTrail, Principal, SCOPES } from '@clinmesh/security';
import { AUDIT_TRAIL, DATA_SOURCE, RequireScopes } from '@clinmesh/service-kit';
import { listUnmappedCodes } from '../persistence/unmapped-code.repository';

/**
 * GET /v1/unmapped-codes?status=open|resolved|all&source=&limit= — the local
 * codes the terminology maps could not translate, for the terminology team.
 * Audited: the list is derived from patient records (no patient data is returned).
 */
@Controller('v1/unmapped-codes')
export class UnmappedCodesController {
  constructor(@Inject(DATA_SOURCE) private readonly db: DataSource, @Inject(AUDIT_TRAIL) private readonly audit: AuditTrail) {}

  @RequireScopes(SCOPES.canonicalRead)
  @Get()
  async list(
    @Req() req: { principal: Principal; headers: Record<string, string | undefined> },
    @Query('status') status = 'open',
    @Query('source') source?: string,
    @Query('limit') limit?: string,
  ) {
    if (!['open', 'resolved', 'all'].includes(status)) throw new ClinmeshError('NORMALIZATION.INVALID_STATUS', 'status must be open, resolved or all', { status: 400 });
    const n = limit === undefined ? 500 : Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 5000) throw new ClinmeshError('NORMALIZATION.INVALID_LIMIT', 'limit must be an integer between 1 and 5000', { status: 400 });
    const codes = await listUnmappedCodes(this.db, { status: status as 'open' | 'resolved' | 'all', sourceSystem: source, limit: n });
    await this.audit.record({
      actor: req.principal.subject, action: 'list-unmapped-codes', resource: 'unmapped-codes', patientRef: null,
      purpose: req.headers['x-purpose-of-use'] ?? null, outcome: 'allowed', details: { status, source: source ?? null, returned: codes.length },
    });
    return { codes };
  }
}
