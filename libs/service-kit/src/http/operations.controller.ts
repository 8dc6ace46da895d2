import { Body, Controller, Get, Inject, Param, Post, Query, Req } from '@nestjs/common';
import { EventRuntime, ReplayTarget } from '@clinmesh/event-runtime';
import { ClinmeshError } from '@clinmesh/errors';
import { AuditTrail, Principal, SCOPES } from '@clinmesh/security';
import { isTier } from '@clinmesh/topology';
import { AUDIT_TRAIL, EVENT_RUNTIME } from './tokens';
import { RequireScopes } from './scopes.decorator';

/**
 * Operator commands every service has: consumer positions, replay of a
 * consumer or a tier (from earliest, an offset or a timestamp), accepting a
 * reported offset loss, and listing / redriving dead letters (one, or by
 * filter). Each command is audited.
 */
@Controller('v1/admin')
export class OperationsController {
  constructor(@Inject(EVENT_RUNTIME) private readonly runtime: EventRuntime, @Inject(AUDIT_TRAIL) private readonly audit: AuditTrail) {}

  @RequireScopes(SCOPES.adminOperate)
  @Get('consumers')
  consumers() {
    return { service: this.runtime.service, clusterId: this.runtime.currentClusterId(), consumers: this.runtime.consumerStatus() };
  }

  /** Body: `{ consumer: "<name>" }` (see GET consumers) or `{ tier }` (every consumer of that tier), and the target. */
  @RequireScopes(SCOPES.adminOperate)
  @Post('replay')
  async replay(@Body() body: ReplayBody, @Req() req: { principal: Principal }) {
    const which = body.consumer ?? body.tier;
    if (!which || typeof which !== 'string') throw new ClinmeshError('ADMIN.INVALID_CONSUMER', 'give consumer (a consumer name) or tier (stat, urgent, routine, bulk)', { status: 400 });
    if (body.tier !== undefined && body.consumer === undefined && !isTier(body.tier)) throw new ClinmeshError('ADMIN.INVALID_TIER', 'tier must be one of stat, urgent, routine, bulk', { status: 400 });
    const target = parseReplayTarget(body);
    const results = await this.runtime.replay(which, target);
    await this.audit.record({ actor: req.principal.subject, action: 'replay', resource: `${this.runtime.service}/${which}`, outcome: 'allowed', details: { target } });
    return { service: this.runtime.service, replayed: results };
  }

  @RequireScopes(SCOPES.adminOperate)
  @Post('consumers/:consumer/accept-loss')
  async acceptLoss(@Param('consumer') name: string, @Body() body: { topic: string; partition: number }, @Req() req: { principal: Principal }) {
    const consumer = this.runtime.consumer(name);
    if (!consumer) throw new ClinmeshError('ADMIN.NO_CONSUMER', `no consumer ${name} in ${this.runtime.service}`, { status: 404 });
    if (!consumer.acceptLoss(body.topic, Number(body.partition))) throw new ClinmeshError('ADMIN.NO_LOSS_REPORTED', 'no offset loss is reported for that partition on this instance', { status: 409 });
    await this.audit.record({ actor: req.principal.subject, action: 'accept-offset-loss', resource: `${body.topic}/${body.partition}`, outcome: 'allowed' });
    return { accepted: true };
  }

  @RequireScopes(SCOPES.adminOperate)
  @Get('dead-letters')
  deadLetters(@Query('status') status?: string, @Query('errorCode') errorCode?: string, @Query('consumerGroup') consumerGroup?: string, @Query('since') since?: string, @Query('limit') limit?: string) {
    const sinceDate = since ? new Date(since) : undefined;
    if (sinceDate && Number.isNaN(sinceDate.getTime())) throw new ClinmeshError('ADMIN.INVALID_SINCE', 'since must be an ISO-8601 date-time', { status: 400 });
    return this.runtime.deadLetters.list({ status, errorCode, consumerGroup, since: sinceDate, limit: limit ? Number(limit) : undefined });
  }

  @RequireScopes(SCOPES.adminOperate)
  @Post('dead-letters/:id/redrive')
  async redrive(@Param('id') id: string, @Req() req: { principal: Principal }) {
    const result = await this.runtime.deadLetters.redrive(id, req.principal.subject);
    await this.audit.record({ actor: req.principal.subject, action: 'redrive-dead-letter', resource: id, outcome: result.status === 'redriven' ? 'allowed' : 'error' });
    return result;
  }

  @RequireScopes(SCOPES.adminOperate)
  @Post('dead-letters/redrive')
  async redriveAll(@Body() body: { errorCode?: string; consumerGroup?: string }, @Req() req: { principal: Principal }) {
    const results = await this.runtime.deadLetters.redriveAll({ errorCode: body?.errorCode, consumerGroup: body?.consumerGroup }, req.principal.subject);
    await this.audit.record({ actor: req.principal.subject, action: 'redrive-dead-letters', resource: this.runtime.service, outcome: 'allowed', details: { count: results.length } });
    return { results };
  }
}

interface ReplayBody {
  consumer?: string;
  tier?: string;
  to?: string;
  offset?: number;
  partition?: number;
  timestamp?: string | number;
}

function parseReplayTarget(body: ReplayBody): ReplayTarget {
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
