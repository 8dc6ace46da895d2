import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query, Req } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ClinmeshError } from '@clinmesh/errors';
import { newEventId } from '@clinmesh/event-runtime';
import { AuditTrail, Principal, SCOPES } from '@clinmesh/security';
import { AUDIT_TRAIL, DATA_SOURCE, RequireScopes } from '@clinmesh/service-kit';
import { validateSubscriptionRequest } from '../../domain/subscription';
import { SubscriptionRepository } from '../persistence/subscription.repository';
import { SUBSCRIPTIONS } from './notifier.tokens';

@Controller('v1')
export class SubscriptionController {
  constructor(
    @Inject(SUBSCRIPTIONS) private readonly subscriptions: SubscriptionRepository,
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(AUDIT_TRAIL) private readonly audit: AuditTrail,
  ) {}

  /** Registers a webhook: { url, secret (≥16 chars, used for HMAC), filter: { tiers, workflows, messageTypes, audiences }, name }. */
  @RequireScopes(SCOPES.subscriptionsWrite)
  @Post('subscriptions')
  @HttpCode(201)
  async create(@Body() body: unknown, @Req() req: { principal: Principal }) {
    const input = validateSubscriptionRequest(body);
    const sub = await this.subscriptions.create(`sub-${newEventId()}`, input, req.principal.subject);
    await this.audit.record({ actor: req.principal.subject, action: 'create-subscription', resource: sub.id, outcome: 'allowed', details: { url: sub.url } });
    return sub;
  }

  @RequireScopes(SCOPES.subscriptionsRead)
  @Get('subscriptions')
  async list() {
    return { subscriptions: await this.subscriptions.list() };
  }

  @RequireScopes(SCOPES.subscriptionsWrite)
  @Delete('subscriptions/:id')
  @HttpCode(204)
  async remove(@Param('id') id: string, @Req() req: { principal: Principal }) {
    if (!(await this.subscriptions.deactivate(id))) throw new ClinmeshError('SUBSCRIPTION.NOT_FOUND', `subscription ${id} not found`, { status: 404 });
    await this.audit.record({ actor: req.principal.subject, action: 'deactivate-subscription', resource: id, outcome: 'allowed' });
  }

  /** Delivery receipts (no payloads): ?subscriptionId=&correlationId=&status=. */
  @RequireScopes(SCOPES.deliveriesRead)
  @Get('deliveries')
  async deliveries(@Query('subscriptionId') subscriptionId?: string, @Query('correlationId') correlationId?: string, @Query('status') status?: string, @Query('limit') limit?: string) {
    const n = Math.min(Number(limit ?? 100) || 100, 1000);
    const rows = await this.db.query(
      `SELECT delivery_id, subscription_id, source_event_id, correlation_id, tier, status, attempts, last_status, last_error, created_at, delivered_at
       FROM nf_delivery WHERE ($1::text IS NULL OR subscription_id = $1) AND ($2::text IS NULL OR correlation_id = $2) AND ($3::text IS NULL OR status = $3)
       ORDER BY created_at DESC LIMIT $4`,
      [subscriptionId ?? null, correlationId ?? null, status ?? null, n],
    );
    return { deliveries: rows };
  }
}
