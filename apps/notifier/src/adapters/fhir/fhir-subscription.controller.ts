import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import type { Response } from 'express';
import { ClinmeshError } from '@clinmesh/errors';
import { AuditTrail, Principal, SCOPES } from '@clinmesh/security';
import { AUDIT_TRAIL, RequireScopes } from '@clinmesh/service-kit';
import { ManageSubscriptionsHandler } from '../../application/manage-subscriptions.handler';
import { SUBSCRIPTION_TOPICS } from '../../domain/fhir/subscription-topics';
import { fhirSubscriptionResource, notificationBundle, readFhirSubscription } from '../../domain/fhir/notification-bundle';
import type { Subscription } from '../../domain/subscription';
import type { NotifierConfig } from '../../config/notifier.config';
import { DeliveryRepository } from '../persistence/delivery.repository';
import { DELIVERIES, MANAGE_SUBSCRIPTIONS, NOTIFIER_CONFIG } from '../http/notifier.tokens';
import { OperationOutcomeFilter } from './operation-outcome.filter';

type Req = { principal: Principal; protocol: string; get(h: string): string | undefined };

/**
 * FHIR Subscriptions, R4B backport IG (topic-based), R4 resources: a client
 * bound by its token to an audience and a purpose of use subscribes to a
 * topic; notifications are history Bundles led by the SubscriptionStatus.
 */
@Controller('fhir/Subscription')
@UseFilters(OperationOutcomeFilter)
export class FhirSubscriptionController {
  constructor(
    @Inject(MANAGE_SUBSCRIPTIONS) private readonly manage: ManageSubscriptionsHandler,
    @Inject(DELIVERIES) private readonly deliveries: DeliveryRepository,
    @Inject(NOTIFIER_CONFIG) private readonly config: NotifierConfig,
    @Inject(AUDIT_TRAIL) private readonly audit: AuditTrail,
  ) {}

  @RequireScopes(SCOPES.subscriptionsWrite)
  @Post()
  @HttpCode(201)
  async create(@Body() body: unknown, @Req() req: Req, @Res({ passthrough: true }) res: Response) {
    const read = readFhirSubscription(body, SUBSCRIPTION_TOPICS.map((t) => t.url));
    if (!read.ok) throw new ClinmeshError('FHIR.SUBSCRIPTION_INVALID', 'the Subscription cannot be accepted', { status: 422, details: { issues: read.issues } });
    const s = await this.manage.createFhir(read.value, req.principal);
    await this.audit.record({ actor: req.principal.subject, action: 'create-fhir-subscription', resource: s.id, outcome: 'allowed', purpose: s.purposeOfUse, details: { audience: s.audience, topic: read.value.topic } });
    res.setHeader('Content-Type', 'application/fhir+json');
    res.setHeader('Location', `${this.base(req)}/Subscription/${s.id}/_history/${s.version}`);
    res.setHeader('ETag', `W/"${s.version}"`);
    return this.resource(s);
  }

  /** `$topic-list` (the backport's operation on the Subscription type), or a Subscription by id. */
  @RequireScopes(SCOPES.subscriptionsRead)
  @Get(':id')
  async read(@Param('id') id: string, @Req() req: Req, @Res({ passthrough: true }) res: Response) {
    res.setHeader('Content-Type', 'application/fhir+json');
    if (id === '$topic-list') {
      return {
        resourceType: 'Parameters',
        parameter: SUBSCRIPTION_TOPICS.map((t) => ({ name: 'subscription-topic-canonical', valueCanonical: t.url })),
      };
    }
    const s = await this.owned(id, req);
    res.setHeader('ETag', `W/"${s.version}"`);
    return this.resource(s);
  }

  /** `$status` and `$events?eventsSinceNumber=&eventsUntilNumber=`. */
  @RequireScopes(SCOPES.subscriptionsRead)
  @Get(':id/:operation')
  async operation(@Param('id') id: string, @Param('operation') operation: string, @Query() q: Record<string, string | undefined>, @Req() req: Req, @Res({ passthrough: true }) res: Response) {
    const s = await this.owned(id, req);
    res.setHeader('Content-Type', 'application/fhir+json');
    const total = s.fhir!.eventsSinceStart;
    const common = {
      bundleId: `${s.id}-${operation.slice(1)}-${Date.now()}`, subscriptionId: s.id, topic: s.fhir!.topic, status: s.fhir!.status, eventsSinceStart: total,
      resourceBase: this.config.fhir.resourceBaseUrl, subscriptionBase: this.base(req), payload: s.fhir!.payload, now: new Date().toISOString(),
    };
    if (operation === '$status') {
      const bundle = notificationBundle({ ...common, type: 'query-status', events: [] });
      return { ...bundle, type: 'searchset' };
    }
    if (operation === '$events') {
      const from = q.eventsSinceNumber === undefined ? 1 : Number(q.eventsSinceNumber);
      const to = q.eventsUntilNumber === undefined ? total : Number(q.eventsUntilNumber);
      if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1 || to < from) {
        throw new ClinmeshError('FHIR.EVENTS_RANGE', 'eventsSinceNumber and eventsUntilNumber must be integers with 1 ≤ since ≤ until', { status: 400 });
      }
      const events = await this.deliveries.fhirEvents(s.id, from, to, this.config.fhir.eventsWindowMs);
      await this.audit.record({ actor: req.principal.subject, action: 'fhir-subscription-events', resource: s.id, outcome: 'allowed', purpose: s.purposeOfUse, details: { from, to, count: events.length } });
      return notificationBundle({ ...common, type: 'query-event', events });
    }
    throw new ClinmeshError('FHIR.OPERATION_UNKNOWN', `operation ${operation} is not supported ($status, $events)`, { status: 404 });
  }

  /** A client sees only subscriptions of its own audience. */
  private async owned(id: string, req: Req): Promise<Subscription> {
    const s = await this.manage.get(id, 'fhir').catch(() => null);
    if (!s || !s.fhir || (req.principal.audience && s.audience !== req.principal.audience)) {
      throw new ClinmeshError('FHIR.NOT_FOUND', `Subscription/${id} not found`, { status: 404 });
    }
    return s;
  }

  private resource(s: Subscription) {
    const f = s.fhir!;
    const status = s.status === 'disabled' ? 'error' : s.status === 'paused' ? 'off' : f.status;
    return fhirSubscriptionResource({ id: s.id, topic: f.topic, endpoint: s.url, payload: f.payload, heartbeatPeriod: f.heartbeatPeriod, status, reason: s.name, version: s.version });
  }

  private base(req: Req): string {
    return `${req.protocol}://${req.get('host')}/fhir`;
  }
}
