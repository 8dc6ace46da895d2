import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { EventRuntime } from '@clinmesh/event-runtime';
import { AuditTrail, Principal, SCOPES } from '@clinmesh/security';
import { AUDIT_TRAIL, DATA_SOURCE, EVENT_RUNTIME, RequireScopes } from '@clinmesh/service-kit';
import { InvalidRequestError, ReviewItemNotFoundError } from '../../domain/identity.errors';
import { MasterPatientIndex } from '../../application/master-patient-index';
import { MASTER_PATIENT_INDEX } from './identity-resolution.tokens';
import { inIdentityTransaction, readIndex } from './identity-request.transaction';
import type { PersonIndexRepository } from '../persistence/person-index.repository';
import type { ReviewItemRow } from '../../domain/person-index.port';

type Req = { principal: Principal; headers: Record<string, string | undefined> };

/**
 * The review queue of uncertain matches: GET /v1/review-items, GET /v1/review-items/{id}
 * (the record and every candidate person side by side with the evidence; ETag = version),
 * POST /v1/review-items/{id}/decision (If-Match: the version read; 412 when it changed,
 * 409 when the item was already decided).
 */
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
    return { items: items.map(({ explanation: _omit, ...item }) => item) };
  }

  @RequireScopes(SCOPES.reviewRead)
  @Get(':id')
  async get(@Req() req: Req, @Param('id') id: string, @Res({ passthrough: true }) res: Response) {
    const view = await readIndex(this.db, async (repo) => {
      const item = await repo.reviewItem(id);
      return item ? { item, sideBySide: await sideBySide(repo, item) } : undefined;
    });
    await this.audit.record({
      actor: req.principal.subject, action: 'read-review-item', resource: 'review-items', patientRef: view?.item.provisionalEpid ?? null,
      purpose: req.headers['x-purpose-of-use'] ?? null, outcome: view ? 'allowed' : 'error', details: { id, candidates: view?.item.candidateEpids ?? [] },
    });
    if (!view) throw new ReviewItemNotFoundError(id);
    res.setHeader('ETag', `"${view.item.version}"`);
    return { ...view.item, ...view.sideBySide };
  }

  @RequireScopes(SCOPES.reviewWrite)
  @Post(':id/decision')
  @HttpCode(200)
  async decide(
    @Req() req: Req, @Param('id') id: string, @Headers('if-match') ifMatch: string | undefined,
    @Body() body: { decision?: unknown; version?: unknown; candidateEpid?: unknown }, @Res({ passthrough: true }) res: Response,
  ) {
    if (body?.decision !== 'link' && body?.decision !== 'separate') throw new InvalidRequestError('REVIEW.INVALID_DECISION', "decision must be 'link' or 'separate'");
    const version = ifMatch !== undefined ? parseEtag(ifMatch) : body.version;
    if (!Number.isInteger(version)) throw new InvalidRequestError('REVIEW.INVALID_VERSION', 'If-Match (the ETag of GET /v1/review-items/{id}) is required');
    if (body.candidateEpid !== undefined && typeof body.candidateEpid !== 'string') throw new InvalidRequestError('REVIEW.INVALID_CANDIDATE', 'candidateEpid must be a string');
    const decision = body.decision;
    const result = await inIdentityTransaction(this.runtime, `review:${id}:v${version}`, req.headers['x-correlation-id'], (repo, changes) =>
      this.index.decide(repo, id, version as number, decision, req.principal.subject, changes, body.candidateEpid as string | undefined),
    );
    await this.audit.record({
      actor: req.principal.subject, action: 'decide-review-item', resource: 'review-items', patientRef: result.item.candidateEpid,
      purpose: req.headers['x-purpose-of-use'] ?? null, outcome: 'allowed', details: { id, decision, version: result.item.version },
    });
    res.setHeader('ETag', `"${result.item.version}"`);
    const { explanation: _omit, ...item } = result.item;
    return { ...item, survivor: result.survivor ?? null };
  }
}

/** `"3"`, `W/"3"` or `3` → 3; anything else → NaN (answered 400). */
function parseEtag(value: string): number {
  const m = /^(?:W\/)?"?(\d+)"?$/.exec(value.trim());
  return m ? Number(m[1]) : Number.NaN;
}

/** The record under review and each candidate person, with their records' demographics and the evidence per person. */
async function sideBySide(repo: PersonIndexRepository, item: ReviewItemRow) {
  const record = await repo.candidates.record(item.recordId);
  const persons = await repo.candidates.recordsOfPersons(item.candidateEpids, 50);
  const evidence = new Map((item.explanation?.candidates ?? []).map((c) => [c.personId, c]));
  return {
    record: record ? { recordId: record.recordId, personId: record.personId, demographics: record.record } : null,
    candidates: item.candidateEpids.map((epid) => ({
      epid,
      evidence: evidence.get(epid) ?? null,
      records: persons.filter((r) => r.personId === epid).map((r) => ({ recordId: r.recordId, demographics: r.record })),
    })),
  };
}
