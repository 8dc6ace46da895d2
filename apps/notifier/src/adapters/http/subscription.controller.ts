import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Patch, Post, Req, Res } from '@nestjs/common';
import type { Response } from 'express';
import { AuditTrail, Principal, SCOPES } from '@clinmesh/security';
import { AUDIT_TRAIL, RequireScopes } from '@clinmesh/service-kit';
import { ManageSubscriptionsHandler } from '../../application/manage-subscriptions.handler';
import type { Subscription } from '../../domain/subscription';
import { SubscriptionRepository } from '../persistence/subscription.repository';
import { MANAGE_SUBSCRIPTIONS, SUBSCRIPTIONS } from './notifier.tokens';

type Req = { principal: Principal };

/** Webhook subscriptions (Standard Webhooks). Reads answer ETag = version; writes take If-Match. */
@Controller('v1/subscriptions')
export class SubscriptionController {
  constructor(
    @Inject(MANAGE_SUBSCRIPTIONS) private readonly manage: ManageSubscriptionsHandler,
    @Inject(SUBSCRIPTIONS) private readonly subscriptions: SubscriptionRepository,
    @Inject(AUDIT_TRAIL) private readonly audit: AuditTrail,
  ) {}

  /**
   * { url, secret? (whsec_… or raw ≥ 16 chars; generated when absent and shown only in this answer), audience?, purposeOfUse?
   * (default: the token's), events? ['routed', 'task.*', 'task.created', …], filter? { tiers, workflows, messageTypes, resourceTypes, criticalOnly },
   * ordering? 'none' | 'patient', name? }
   */
  @RequireScopes(SCOPES.subscriptionsWrite)
  @Post()
  @HttpCode(201)
  async create(@Body() body: unknown, @Req() req: Req, @Res({ passthrough: true }) res: Response) {
    const { subscription, secret, secretGenerated } = await this.manage.create(body, req.principal);
    await this.audit.record({ actor: req.principal.subject, action: 'create-subscription', resource: subscription.id, outcome: 'allowed', details: { audience: subscription.audience, purposeOfUse: subscription.purposeOfUse } });
    res.setHeader('ETag', `"${subscription.version}"`);
    res.setHeader('Location', `/v1/subscriptions/${subscription.id}`);
    return { ...view(subscription), secret, secretShownOnce: true, secretGenerated };
  }

  @RequireScopes(SCOPES.subscriptionsRead)
  @Get()
  async list() {
    return { subscriptions: (await this.subscriptions.list('webhook')).map((s) => ({ ...view(s), health: s.health })) };
  }

  @RequireScopes(SCOPES.subscriptionsRead)
  @Get(':id')
  async get(@Param('id') id: string, @Res({ passthrough: true }) res: Response) {
    const s = await this.manage.get(id);
    res.setHeader('ETag', `"${s.version}"`);
    return { ...view(s), health: s.health };
  }

  @RequireScopes(SCOPES.subscriptionsWrite)
  @Patch(':id')
  async update(@Param('id') id: string, @Body() body: Record<string, unknown>, @Headers('if-match') ifMatch: string | undefined, @Req() req: Req, @Res({ passthrough: true }) res: Response) {
    const s = await this.manage.update(id, ifMatch, body ?? {});
    await this.audit.record({ actor: req.principal.subject, action: 'update-subscription', resource: id, outcome: 'allowed', details: { fields: Object.keys(body ?? {}) } });
    res.setHeader('ETag', `"${s.version}"`);
    return view(s);
  }

  @RequireScopes(SCOPES.subscriptionsWrite)
  @Post(':id/pause')
  @HttpCode(200)
  async pause(@Param('id') id: string, @Headers('if-match') ifMatch: string | undefined, @Req() req: Req, @Res({ passthrough: true }) res: Response) {
    return this.status(id, ifMatch, 'paused', req, res);
  }

  @RequireScopes(SCOPES.subscriptionsWrite)
  @Post(':id/resume')
  @HttpCode(200)
  async resume(@Param('id') id: string, @Headers('if-match') ifMatch: string | undefined, @Req() req: Req, @Res({ passthrough: true }) res: Response) {
    return this.status(id, ifMatch, 'active', req, res);
  }

  /** { secret?, graceSeconds? }: the new secret is shown once; both sign until the grace period ends. */
  @RequireScopes(SCOPES.subscriptionsWrite)
  @Post(':id/rotate-secret')
  @HttpCode(200)
  async rotate(@Param('id') id: string, @Body() body: Record<string, unknown>, @Headers('if-match') ifMatch: string | undefined, @Req() req: Req, @Res({ passthrough: true }) res: Response) {
    const r = await this.manage.rotateSecret(id, ifMatch, body ?? {});
    await this.audit.record({ actor: req.principal.subject, action: 'rotate-subscription-secret', resource: id, outcome: 'allowed' });
    res.setHeader('ETag', `"${r.subscription.version}"`);
    return { ...view(r.subscription), secret: r.secret, secretShownOnce: true, previousSecretValidUntil: r.previousValidUntil };
  }

  @RequireScopes(SCOPES.subscriptionsWrite)
  @Post(':id/test')
  @HttpCode(202)
  async test(@Param('id') id: string) {
    return { deliveryId: await this.manage.sendTest(id) };
  }

  private async status(id: string, ifMatch: string | undefined, to: 'active' | 'paused', req: Req, res: Response) {
    const s = await this.manage.setStatus(id, ifMatch, to);
    await this.audit.record({ actor: req.principal.subject, action: to === 'paused' ? 'pause-subscription' : 'resume-subscription', resource: id, outcome: 'allowed' });
    res.setHeader('ETag', `"${s.version}"`);
    return view(s);
  }
}

function view(s: Subscription) {
  return {
    id: s.id, name: s.name, url: s.url, audience: s.audience, purposeOfUse: s.purposeOfUse, events: s.events, filter: s.filter, ordering: s.ordering,
    status: s.status, disabledReason: s.disabledReason, version: s.version, createdAt: s.createdAt,
  };
}
