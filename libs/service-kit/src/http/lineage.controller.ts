import { Controller, Get, Inject, Param, Query, Req } from '@nestjs/common';
import { EventRuntime, deadLetterView, type StoredDeadLetter } from '@clinmesh/event-runtime';
import { ClinmeshError } from '@clinmesh/errors';
import { AuditTrail, Principal, SCOPES } from '@clinmesh/security';
import { AUDIT_TRAIL, EVENT_RUNTIME } from './tokens';
import { RequireScopes } from './scopes.decorator';
import { LINEAGE_REGISTRY, LineageRegistry } from '../lineage/lineage.port';

type Req = { principal: Principal; headers: Record<string, string | undefined> };

/**
 * `GET /v1/lineage/{correlationId}`: what this service did for one message —
 * the runtime part common to every service (events it emitted with their
 * timing and decoded value, when it consumed their causes, dead letters) and
 * the service's own contribution (ServiceSpec.lineage). The console composes
 * the whole path from every service's answer. Reads are audited (the decoded
 * values are patient data).
 *
 * `GET /v1/lineage/dead-letters[/{id}]`: dead letters with the payload
 * decoded through the registry, for read-only browsing (redrive stays
 * admin:operate on /v1/admin/dead-letters).
 */
@Controller('v1/lineage')
export class LineageController {
  constructor(
    @Inject(EVENT_RUNTIME) private readonly runtime: EventRuntime,
    @Inject(AUDIT_TRAIL) private readonly audit: AuditTrail,
    @Inject(LINEAGE_REGISTRY) private readonly registry: LineageRegistry,
  ) {}

  @RequireScopes(SCOPES.lineageRead)
  @Get('dead-letters')
  async deadLetters(@Req() req: Req, @Query('status') status?: string, @Query('errorCode') errorCode?: string, @Query('since') since?: string, @Query('limit') limit?: string) {
    const sinceDate = since ? new Date(since) : undefined;
    if (sinceDate && Number.isNaN(sinceDate.getTime())) throw new ClinmeshError('LINEAGE.INVALID_SINCE', 'since must be an ISO-8601 date-time', { status: 400 });
    const n = limit === undefined ? 100 : Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw new ClinmeshError('LINEAGE.INVALID_LIMIT', 'limit must be an integer between 1 and 1000', { status: 400 });
    const list = await this.runtime.deadLetters.list({ status, errorCode, since: sinceDate, limit: n });
    await this.audit.record({ actor: req.principal.subject, action: 'list-dead-letters', resource: `${this.runtime.service}/dead-letters`, purpose: req.headers['x-purpose-of-use'] ?? null, outcome: 'allowed', details: { returned: list.length } });
    return { service: this.runtime.service, deadLetters: list };
  }

  @RequireScopes(SCOPES.lineageRead)
  @Get('dead-letters/:id')
  async deadLetter(@Param('id') id: string, @Req() req: Req) {
    const row = await this.runtime.deadLetters.find(id);
    await this.audit.record({ actor: req.principal.subject, action: 'read-dead-letter', resource: `dead-letter/${id}`, purpose: req.headers['x-purpose-of-use'] ?? null, outcome: row ? 'allowed' : 'error' });
    if (!row) throw new ClinmeshError('DEAD_LETTER.NOT_FOUND', `dead letter ${id} not found`, { status: 404 });
    return { service: this.runtime.service, ...(await this.decodedDeadLetter(row)) };
  }

  /** `GET /v1/lineage/events/{eventId}`: the correlation id of an event this service emitted or dead-lettered (404 otherwise). */
  @RequireScopes(SCOPES.lineageRead)
  @Get('events/:eventId')
  async eventCorrelation(@Param('eventId') eventId: string) {
    const correlationId = await this.runtime.lineage.correlationOfEvent(eventId);
    if (!correlationId) throw new ClinmeshError('LINEAGE.EVENT_NOT_FOUND', `no event ${eventId} in ${this.runtime.service}`, { status: 404 });
    return { service: this.runtime.service, eventId, correlationId };
  }

  @RequireScopes(SCOPES.lineageRead)
  @Get(':correlationId')
  async lineage(@Param('correlationId') correlationId: string, @Req() req: Req, @Query('events') events?: string) {
    if (!correlationId || correlationId.length > 200) throw new ClinmeshError('LINEAGE.INVALID_ID', 'correlationId must be 1-200 characters', { status: 400 });
    const emitted = await this.runtime.lineage.emitted(correlationId);
    const dead = await this.runtime.deadLetters.ofCorrelation(correlationId);
    const known = (events ?? '').split(',').map((s) => s.trim()).filter(Boolean).slice(0, 200);
    const consumed = await this.runtime.lineage.consumed(known);
    let items: unknown[] = [];
    let contributionError: string | undefined;
    try {
      items = (await this.registry.contributor?.contribute(correlationId)) ?? [];
    } catch (error) {
      contributionError = (error as Error).message;
    }
    await this.audit.record({
      actor: req.principal.subject, action: 'read-lineage', resource: `lineage/${correlationId}`, purpose: req.headers['x-purpose-of-use'] ?? null, outcome: 'allowed',
      details: { emitted: emitted.length, deadLetters: dead.length, items: items.length },
    });
    return {
      service: this.runtime.service,
      correlationId,
      emitted: await Promise.all(emitted.map(async ({ value, ...e }) => ({ ...e, ...(await this.decode(value)) }))),
      consumed,
      deadLetters: await Promise.all(dead.map((d) => this.decodedDeadLetter(d))),
      items,
      ...(contributionError ? { contributionError } : {}),
    };
  }

  private async decodedDeadLetter(row: StoredDeadLetter) {
    return { ...deadLetterView(row), ...(await this.decode(row.value)) };
  }

  /** Decodes a stored Avro value through the registry (writer schema by id); never fails the request. */
  private async decode(value: Buffer | null): Promise<{ value?: unknown; schemaId?: number; decodeError?: string }> {
    if (!value || value.length === 0) return { decodeError: 'no value stored' };
    try {
      const decoded = await this.runtime.serde.decode<unknown>(value);
      // Avro bytes (e.g. a raw message) arrive as Buffers, which JSON renders as {type:'Buffer',data:[…]}: show them as text.
      const json = JSON.stringify(decoded.value, (_k, v) => {
        if (typeof v === 'bigint') return v.toString();
        if (v && typeof v === 'object' && v.type === 'Buffer' && Array.isArray(v.data)) return Buffer.from(v.data).toString('utf8');
        return v;
      });
      return { value: JSON.parse(json), schemaId: decoded.schemaId };
    } catch (error) {
      return { decodeError: (error as Error).message, value: value.subarray(0, 2048).toString('base64') };
    }
  }
}
