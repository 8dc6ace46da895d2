import { Controller, Get, Inject, Param, Query, Req } from '@nestjs/common';
import { ClinmeshError } from '@clinmesh/errors';
import { AuditTrail, Principal, SCOPES } from '@clinmesh/security';
import { AUDIT_TRAIL, RequireScopes } from '@clinmesh/service-kit';
import { MessageRepository } from '../persistence/message.repository';
import { MESSAGES } from './ingest.tokens';

/** Audited reads of stored messages and of rejections kept for review. */
@Controller('v1')
export class MessagesController {
  constructor(@Inject(MESSAGES) private readonly messages: MessageRepository, @Inject(AUDIT_TRAIL) private readonly audit: AuditTrail) {}

  @RequireScopes(SCOPES.ingestRead)
  @Get('messages/:id')
  async message(@Param('id') id: string, @Req() req: { principal: Principal; headers: Record<string, string | undefined> }) {
    const m = await this.messages.message(id);
    await this.audit.record({ actor: req.principal.subject, action: 'read-message', resource: `message/${id}`, purpose: req.headers['x-purpose-of-use'] ?? null, outcome: m ? 'allowed' : 'error' });
    if (!m) throw new ClinmeshError('INGEST.MESSAGE_NOT_FOUND', `message ${id} not found`, { status: 404 });
    return {
      messageId: m.message_id, sender: m.sender, controlId: m.control_id, format: m.format, channel: m.channel, messageType: m.message_type,
      tier: m.tier, triageRule: m.triage_rule, receivedAt: m.received_at, status: m.status, flags: m.flags, ack: m.ack, sizeBytes: Number(m.size),
    };
  }

  /** `GET /v1/messages?controlId=&sender=`: every message stored under a control id, with its flags (e.g. control-id-reuse). */
  @RequireScopes(SCOPES.ingestRead)
  @Get('messages')
  async messagesWithControlId(
    @Req() req: { principal: Principal; headers: Record<string, string | undefined> },
    @Query('controlId') controlId?: string, @Query('sender') sender?: string, @Query('limit') limit?: string,
  ) {
    if (!controlId) throw new ClinmeshError('INGEST.INVALID_QUERY', 'controlId is required (the MSH-10 or FHIR id to look up)', { status: 400 });
    const n = limit === undefined ? 100 : Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw new ClinmeshError('INGEST.INVALID_QUERY', 'limit must be an integer between 1 and 1000', { status: 400 });
    const rows = await this.messages.messagesWithControlId({ controlId, sender, limit: n });
    await this.audit.record({
      actor: req.principal.subject, action: 'list-messages', resource: 'messages', purpose: req.headers['x-purpose-of-use'] ?? null, outcome: 'allowed',
      details: { controlId, sender, returned: rows.length },
    });
    return {
      messages: rows.map((m) => ({
        messageId: m.message_id, sender: m.sender, controlId: m.control_id, format: m.format, channel: m.channel, messageType: m.message_type,
        tier: m.tier, triageRule: m.triage_rule, receivedAt: m.received_at, status: m.status, flags: m.flags, sizeBytes: Number(m.size),
      })),
    };
  }

  @RequireScopes(SCOPES.rejectionsRead)
  @Get('rejections')
  async rejections(
    @Req() req: { principal: Principal; headers: Record<string, string | undefined> },
    @Query('sender') sender?: string, @Query('reason') reason?: string, @Query('since') since?: string, @Query('until') until?: string, @Query('limit') limit?: string,
  ) {
    const parseDate = (v: string | undefined, name: string) => {
      if (v === undefined) return undefined;
      const d = new Date(v);
      if (Number.isNaN(d.getTime())) throw new ClinmeshError('INGEST.INVALID_QUERY', `${name} must be an ISO-8601 date-time`, { status: 400 });
      return d;
    };
    const n = limit === undefined ? 100 : Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw new ClinmeshError('INGEST.INVALID_QUERY', 'limit must be an integer between 1 and 1000', { status: 400 });
    const rows = await this.messages.rejections({ sender, reason, since: parseDate(since, 'since'), until: parseDate(until, 'until'), limit: n });
    await this.audit.record({ actor: req.principal.subject, action: 'list-rejections', resource: 'rejections', purpose: req.headers['x-purpose-of-use'] ?? null, outcome: 'allowed', details: { sender, reason, returned: rows.length } });
    return {
      rejections: rows.map((r) => ({
        id: r.id, sender: r.sender, channel: r.channel, messageType: r.message_type, controlId: r.control_id, reason: r.reason, detail: r.detail,
        receivedAt: r.received_at, sizeBytes: Number(r.size),
      })),
    };
  }
}
