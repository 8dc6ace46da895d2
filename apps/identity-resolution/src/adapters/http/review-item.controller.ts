import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EventRuntime } from '@clinmesh/event-runtime';
import { AuditTrail, Principal, SCOPES } from '@clinmesh/security';
import { AUDIT_TRAIL, DATA_SOURCE, EVENT_RUNTIME, RequireScopes } from '@clinmesh/service-kit';
import { InvalidRequestError } from '../../domain/identity.errors';
import { MasterPatientIndex } from '../../application/master-patient-index';
import { MASTER_PATIENT_INDEX } from './identity-resolution.tokens';
import { inIdentityTransaction, readIndex } from './identity-request.transaction';

type Req = { principal: Principal; headers: Record<string, string | undefined> };

/** The review queue of uncertain matches: GET /v1/review-items, POST /v1/review-items/{id}/decision. */
@Controller('v1/review-items')
export class ReviewItemController {
  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(AUDIT_TRAIL) private readonly audit: AuditTrail,
    @Inject(EVENT_RUNTIME) private readonly runtime: EventRuntime,
    @Inject(MASTER_PATIENT_INDEX) private readonly index: MasterPatientIndex,
  ) {}

  @RequireScopes(SCOPES.reviewRead)
  @Get()
  async list(@Req() req: Req, @Query('status') status?: string, @Query('limit') limit?: string) {
    const st = status ?? 'open';
    if (!['open', 'linked', 'separated', 'all'].includes(st)) throw new InvalidRequestError('REVIEW.INVALID_STATUS', 'status must be open, linked, separated or all');
    const n = limit === undefined ? 100 : Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InvalidRequestError('REVIEW.INVALID_LIMIT', 'limit must be an integer between 1 and 1000');
    const items = await readIndex(this.db, (repo) => repo.reviewItems(st as 'open', n));
    await this.audit.record({
      actor: req.principal.subject, action: 'list-review-items', resource: 'review-items', patientRef: null, purpose: req.headers['x-purpose-of-use'] ?? null,
      outcome: 'allowed', details: { status: st, returned: items.length },
    });
    return { items };
  }

  @RequireScopes(SCOPES.reviewWrite)
  @Post(':id/decision')
  @HttpCode(200)
  async decide(@Req() req: Req, @Param('id') id: string, @Body() body: { decision?: unknown; version?: unknown }) {
    if (body?.decision !== 'link' && body?.decision !== 'separate') throw new InvalidRequestError('REVIEW.INVALID_DECISION', "decision must be 'link' or 'separate'");
    if (!Number.isInteger(body.version)) throw new InvalidRequestError('REVIEW.INVALID_VERSION', 'version (an integer, from GET /v1/review-items) is required');
    const decision = body.decision;
    const result = await inIdentityTransaction(this.runtime, `review:${id}:v${body.version}`, req.headers['x-correlation-id'], (repo, changes) =>
      this.index.decide(repo, id, body.version as number, decision, req.principal.subject, changes),
    );
    await this.audit.record({
      actor: req.principal.subject, action: 'decide-review-item', resource: 'review-items', patientRef: result.item.candidateEpid,
      purpose: req.headers['x-purpose-of-use'] ?? null, outcome: 'allowed', details: { id, decision, version: result.item.version },
    });
    return { ...result.item, survivor: result.survivor ?? null };
  }
}
