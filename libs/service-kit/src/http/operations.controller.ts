import { Body, Controller, Get, Inject, Param, Post, Query, Req } from '@nestjs/common';
import { EventRuntime, ReplayTarget } from '@clinmesh/event-runtime';
import { ClinmeshError } from '@clinmesh/errors';
import { AuditTrail, Principal, SCOPES } from '@clinmesh/security';
import { isTier } from '@clinmesh/topology';
import { AUDIT_TRAIL, EVENT_RUNTIME } from './tokens';
import { RequireScopes } from './scopes.decorator';

/**
 * Operator commands every service has: consumer positions, replay of a tier
 * (from earliest, an offset or a timestamp), accepting a reported offset
 * loss, and listing / redriving dead letters. Each command is audited.
 */
@Controller('v1/admin')
export class OperationsController {
  constructor(@Inject(EVENT_RUNTIME) private readonly runtime: EventRuntime, @Inject(AUDIT_TRAIL) private readonly audit: AuditTrail) {}

  @RequireScopes(SCOPES.adminOperate)
  @Get('consumers')
  consumers() {
    return { service: this.runtime.service, clusterId: this.runtime.currentClusterId(), consumers: this.runtime.consumerStatus() };
  }

  @RequireScopes(SCOPES.adminOperate)
  @Post('replay')
  async replay(@Body() body: { tier?: string; to?: string; offset?: number; partition?: number; timestamp?: string | number }, @Req() req: { principal: Principal }) {
    const target = parseReplayTarget(body);
    const result = await this.runtime.replay(String(body.tier), target);
    await this.audit.record({ actor: req.principal.subject, action: 'replay', resource: `${this.runtime.service}/${body.tier}`, outcome: 'allowed', details: { target } });
    return result;
  }

  @RequireScopes(SCOPES.adminOperate)
  @Post('consumers/:tier/accept-loss')
  async acceptLoss(@Param('tier') tier: string, @Body() body: { topic: string; partition: number }, @Req() req: { principal: Principal }) {
    if (!isTier(tier)) throw new ClinmeshError('ADMIN.INVALID_TIER', `unknown tier ${tier}`, { status: 400 });
    const ok = this.runtime.consumerFor(tier)?.acceptLoss(body.topic, Number(body.partition)) ?? false;
    if (!ok) throw new ClinmeshError('ADMIN.NO_LOSS_REPORTED', 'no offset loss is reported for that partition on this instance', { status: 409 });
    await this.audit.record({ actor: req.principal.subject, action: 'accept-offset-loss', resource: `${body.topic}/${body.partition}`, outcome: 'allowed' });
    return { accepted: true };
  }

  @RequireScopes(SCOPES.adminOperate)
  @Get('dead-letters')
  deadLetters(@Query('status') status?: string, @Query('limit') limit?: string) {
    return this.runtime.deadLetters.list({ status, limit: limit ? Number(limit) : undefined });
  }

  @RequireScopes(SCOPES.adminOperate)
  @Post('dead-letters/:id/redrive')
  async redrive(@Param('id') id: string, @Req() req: { principal: Principal }) {
    const result = await this.runtime.deadLetters.redrive(id);
    await this.audit.record({ actor: req.principal.subject, action: 'redrive-dead-letter', resource: id, outcome: result.status === 'redriven' ? 'allowed' : 'error' });
    return result;
  }

  @RequireScopes(SCOPES.adminOperate)
  @Post('dead-letters/redrive')
  async redriveAll(@Body() body: { errorCode?: string }, @Req() req: { principal: Principal }) {
    const results = await this.runtime.deadLetters.redriveAll({ errorCode: body?.errorCode });
    await this.audit.record({ actor: req.principal.subject, action: 'redrive-dead-letters', resource: this.runtime.service, outcome: 'allowed', details: { count: results.length } });
    return { results };
  }
}

function parseReplayTarget(body: { tier?: string; to?: string; offset?: number; partition?: number; timestamp?: string | number }): ReplayTarget {
  if (!isTier(body.tier)) throw new ClinmeshError('ADMIN.INVALID_TIER', 'tier must be one of stat, urgent, routine, bulk', { status: 400 });
  switch (body.to) {
    case 'earliest':
      return { to: 'earliest' };
    case 'offset':
      if (!Number.isInteger(body.offset) || (body.offset as number) < 0) throw new ClinmeshError('ADMIN.INVALID_OFFSET', 'offset must be a non-negative integer', { status: 400 });
      return { to: 'offset', offset: body.offset as number, partition: body.partition };
    case 'timestamp': {
      const ts = typeof body.timestamp === 'number' ? body.timestamp : Date.parse(String(body.timestamp));
      if (!Number.isFinite(ts)) throw new ClinmeshError('ADMIN.INVALID_TIMESTAMP', 'timestamp must be epoch ms or an ISO-8601 date-time', { status: 400 });
      return { to: 'timestamp', timestamp: ts };
    }
    default:
      throw new ClinmeshError('ADMIN.INVALID_TARGET', 'to must be earliest, offset or timestamp', { status: 400 });
  }
}
