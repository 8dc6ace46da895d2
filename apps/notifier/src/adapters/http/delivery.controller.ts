import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req } from '@nestjs/common';
import { ClinmeshError } from '@clinmesh/errors';
import { AuditTrail, Principal, SCOPES } from '@clinmesh/security';
import { AUDIT_TRAIL, RequireScopes } from '@clinmesh/service-kit';
import { DeliveryFilter, DeliveryRepository } from '../persistence/delivery.repository';
import { DELIVERIES } from './notifier.tokens';

const STATUSES = ['pending', 'in_flight', 'delivered', 'dead', 'cancelled'];

/** Operator view of deliveries (every attempt's status, latency, error; no payloads) and redrive. */
@Controller('v1/deliveries')
export class DeliveryController {
  constructor(@Inject(DELIVERIES) private readonly deliveries: DeliveryRepository, @Inject(AUDIT_TRAIL) private readonly audit: AuditTrail) {}

  /** ?subscriptionId=&status=&epid=&correlationId=&since=&until=&limit= */
  @RequireScopes(SCOPES.deliveriesRead)
  @Get()
  async list(@Query() q: Record<string, string | undefined>, @Req() req: { principal: Principal }) {
    const filter = readFilter(q);
    const limit = Math.min(Math.max(Number(q.limit ?? 100) || 100, 1), 1000);
    const deliveries = await this.deliveries.search(filter, limit);
    // Receipts name patients (EPIDs): every read is audited, with the patient when the filter names one.
    await this.audit.record({ actor: req.principal.subject, action: 'read-deliveries', resource: 'deliveries', patientRef: filter.epid, outcome: 'allowed', details: { filter: { ...filter, epid: undefined }, count: deliveries.length } });
    return { deliveries };
  }

  @RequireScopes(SCOPES.deliveriesRead)
  @Get(':id')
  async one(@Param('id') id: string) {
    const [d] = await this.deliveries.search({ deliveryId: id }, 1);
    if (!d) throw new ClinmeshError('DELIVERY.NOT_FOUND', `delivery ${id} not found`, { status: 404 });
    return d;
  }

  /** A dead delivery back to pending with a fresh schedule; 409 with its state otherwise. */
  @RequireScopes(SCOPES.deliveriesWrite)
  @Post(':id/redrive')
  @HttpCode(202)
  async redrive(@Param('id') id: string, @Req() req: { principal: Principal }) {
    const done = await this.deliveries.redrive({ deliveryId: id }, 1);
    if (!done.length) {
      const status = await this.deliveries.statusOf(id);
      if (!status) throw new ClinmeshError('DELIVERY.NOT_FOUND', `delivery ${id} not found`, { status: 404 });
      throw new ClinmeshError('DELIVERY.NOT_DEAD', `delivery ${id} is ${status}; only dead deliveries are redriven`, { status: 409, details: { status } });
    }
    await this.audit.record({ actor: req.principal.subject, action: 'redrive-delivery', resource: id, outcome: 'allowed' });
    return { redriven: done };
  }

  /** Redrive dead deliveries by filter: { subscriptionId?, epid?, correlationId?, since?, until?, limit? } (at least one filter). */
  @RequireScopes(SCOPES.deliveriesWrite)
  @Post('redrive')
  @HttpCode(202)
  async redriveMany(@Body() body: Record<string, string | undefined>, @Req() req: { principal: Principal }) {
    const filter = readFilter({ ...(body ?? {}), status: undefined });
    if (!Object.values(filter).some(Boolean)) throw new ClinmeshError('DELIVERY.FILTER_REQUIRED', 'give at least one filter (subscriptionId, epid, correlationId, since, until)', { status: 422 });
    const limit = Math.min(Math.max(Number(body?.limit ?? 1000) || 1000, 1), 10000);
    const done = await this.deliveries.redrive(filter, limit);
    await this.audit.record({ actor: req.principal.subject, action: 'redrive-deliveries', resource: 'deliveries', outcome: 'allowed', details: { count: done.length } });
    return { redriven: done, count: done.length };
  }
}

function readFilter(q: Record<string, string | undefined>): DeliveryFilter {
  const problems: string[] = [];
  if (q.status && !STATUSES.includes(q.status)) problems.push(`status must be one of ${STATUSES.join(', ')}`);
  for (const k of ['since', 'until'] as const) if (q[k] && Number.isNaN(Date.parse(q[k]!))) problems.push(`${k} must be an ISO timestamp`);
  if (problems.length) throw new ClinmeshError('DELIVERY.INVALID_FILTER', problems.join('; '), { status: 400, details: { problems } });
  return { subscriptionId: q.subscriptionId, status: q.status, epid: q.epid, correlationId: q.correlationId, since: q.since, until: q.until };
}
