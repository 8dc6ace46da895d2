import { Controller, Get, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { ClinmeshError } from '@clinmesh/errors';
import { AuditTrail, Principal, SCOPES } from '@clinmesh/security';
import { AUDIT_TRAIL, RequireScopes } from '@clinmesh/service-kit';
import { TerminologyFileSource } from '../terminology/terminology-file.source';
import { TERMINOLOGY } from '../../normalization.tokens';

/** The terminology maps in force, and an explicit reload after a map file change (before a replay). */
@Controller('v1/terminology')
export class TerminologyController {
  constructor(@Inject(TERMINOLOGY) private readonly terminology: TerminologyFileSource, @Inject(AUDIT_TRAIL) private readonly audit: AuditTrail) {}

  @RequireScopes(SCOPES.canonicalRead)
  @Get()
  status() {
    return { version: this.terminology.current().version, lastError: this.terminology.lastError };
  }

  @RequireScopes(SCOPES.adminOperate)
  @Post('reload')
  @HttpCode(200)
  async reload(@Req() req: { principal: Principal }) {
    try {
      const result = this.terminology.reload();
      await this.audit.record({ actor: req.principal.subject, action: 'reload-terminology', resource: 'terminology', patientRef: null, purpose: null, outcome: 'allowed', details: result });
      return result;
    } catch (e) {
      throw new ClinmeshError('NORMALIZATION.TERMINOLOGY_INVALID', `terminology map not reloaded: ${(e as Error).message}`, { status: 422 });
    }
  }
}
