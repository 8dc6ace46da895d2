import { Controller, Get, HttpCode, Inject, Post, Query, Req } from '@nestjs/common';
import { ClinmeshError } from '@clinmesh/errors';
import { AuditTrail, Principal, SCOPES } from '@clinmesh/security';
import { EventRuntime } from '@clinmesh/event-runtime';
import { AUDIT_TRAIL, EVENT_RUNTIME } from './tokens';
import { RequireScopes } from './scopes.decorator';

/**
 * Every service's audit trail (libs/security AuditTrail, hash-chained):
 * `GET /v1/audit?limit=` newest first, `POST /v1/audit/verify` walks the
 * chain and answers the first broken sequence number. Verifying is itself
 * recorded (after the walk, so it never verifies its own row).
 */
@Controller('v1/audit')
export class AuditController {
  constructor(@Inject(AUDIT_TRAIL) private readonly audit: AuditTrail, @Inject(EVENT_RUNTIME) private readonly runtime: EventRuntime) {}

  @RequireScopes(SCOPES.auditRead)
  @Get()
  async list(@Query('limit') limit?: string) {
    const n = limit === undefined ? 100 : Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw new ClinmeshError('AUDIT.INVALID_LIMIT', 'limit must be an integer between 1 and 1000', { status: 400 });
    const entries = await this.audit.list(n);
    return { service: this.runtime.service, entries: entries.map((e) => ({ ...e, seq: Number(e.seq) })) };
  }

  @RequireScopes(SCOPES.auditRead)
  @Post('verify')
  @HttpCode(200)
  async verify(@Req() req: { principal: Principal }) {
    const result = await this.audit.verify();
    await this.audit.record({ actor: req.principal.subject, action: 'verify-audit-chain', resource: `${this.runtime.service}/audit`, outcome: result.ok ? 'allowed' : 'error', details: { ...result } });
    return { service: this.runtime.service, ...result };
  }
}
