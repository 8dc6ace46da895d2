import { randomUUID } from 'node:crypto';
import { ClinmeshError } from '@clinmesh/errors';
import type { EventRuntime } from '@clinmesh/event-runtime';
import type { Logger } from '@clinmesh/observability';
import type { PolicyStore } from './policy-store';
import type { StoredGrant, StoresFactory } from './ports';
import { parsePatientToken, patientKeys } from './consents';
import { policyEvent } from './patient-events.handlers';

export interface BreakGlassRequest {
  patient?: unknown;
  audience?: unknown;
  actor?: unknown;
  reason?: unknown;
  durationSeconds?: unknown;
  expiresAt?: unknown;
}

/**
 * Break-glass: a time-boxed grant for one patient and audience that overrides
 * a consent deny (and withheld labels); every decision under it carries
 * purpose BTG and the grant id. BREAK_GLASS_GRANTED opens a review task in the
 * task service; a durable timer (the grant row, claimed FOR UPDATE SKIP
 * LOCKED) expires it by itself with BREAK_GLASS_EXPIRED.
 */
export class BreakGlassService {
  constructor(
    private readonly runtime: EventRuntime,
    private readonly store: PolicyStore,
    private readonly stores: StoresFactory,
    private readonly options: { patientKeySecret: string; maxDurationSeconds: number; minReasonLength: number },
    private readonly clock: () => number = Date.now,
  ) {}

  async grant(req: BreakGlassRequest, requestedBy: string, operationId = randomUUID()): Promise<StoredGrant> {
    const problems: string[] = [];
    const now = this.clock();
    const patient = typeof req.patient === 'string' ? req.patient : undefined;
    if (!patient) problems.push('patient (system|value) is required');
    const audience = typeof req.audience === 'string' ? req.audience : undefined;
    if (!audience) problems.push('audience is required');
    else if (!this.store.active.set.audiences[audience]) {
      throw new ClinmeshError('POLICY.UNKNOWN_AUDIENCE', `unknown audience ${JSON.stringify(audience)}`, { status: 422, details: { known: Object.keys(this.store.active.set.audiences) } });
    }
    const reason = typeof req.reason === 'string' ? req.reason.trim() : '';
    if (reason.length < this.options.minReasonLength) problems.push(`reason is required (at least ${this.options.minReasonLength} characters)`);
    let expiresAt: number | undefined;
    if (req.expiresAt !== undefined) {
      const t = typeof req.expiresAt === 'string' ? Date.parse(req.expiresAt) : NaN;
      if (Number.isNaN(t)) problems.push('expiresAt must be an ISO 8601 instant');
      else if (t <= now) throw new ClinmeshError('POLICY.BREAK_GLASS_EXPIRED', `the requested grant would already have expired (${req.expiresAt})`, { status: 422 });
      else expiresAt = t;
    } else if (req.durationSeconds !== undefined) {
      const d = Number(req.durationSeconds);
      if (!Number.isFinite(d) || d <= 0) throw new ClinmeshError('POLICY.BREAK_GLASS_EXPIRED', 'durationSeconds must be positive: a grant of no duration is already expired', { status: 422 });
      expiresAt = now + d * 1000;
    } else problems.push('durationSeconds or expiresAt is required');
    if (problems.length) throw new ClinmeshError('POLICY.BREAK_GLASS_INVALID', problems.join('; '), { status: 400, details: { errors: problems } });
    if (expiresAt! - now > this.options.maxDurationSeconds * 1000) {
      throw new ClinmeshError('POLICY.BREAK_GLASS_TOO_LONG', `a break-glass grant lasts at most ${this.options.maxDurationSeconds} s`, { status: 422, details: { maxDurationSeconds: this.options.maxDurationSeconds } });
    }
    const { system, value } = parsePatientToken(patient);
    const keys = patientKeys(this.store, this.options.patientKeySecret, system, value);
    const actor = typeof req.actor === 'string' && req.actor ? req.actor : requestedBy;
    const id = randomUUID();
    return this.runtime.inTransaction({ id: `break-glass:${id}`, correlationId: operationId, tier: 'stat', source: 'policy-api' }, async (ctx) => {
      const s = this.stores(ctx.uow);
      const [epid] = await s.identities.epidsOf(keys);
      if (!epid) throw new ClinmeshError('POLICY.PATIENT_UNKNOWN', 'no patient with that identifier is known to policy yet', { status: 404 });
      const grant = await s.grants.insert({ id, epid, audience: audience!, actor, reason, expiresAt: new Date(expiresAt!) });
      policyEvent(ctx, 'break-glass-granted', {
        kind: 'BREAK_GLASS_GRANTED', epid, subjectId: id, audience: audience!, actor, reason, expiresAt: expiresAt!, details: { requestedBy },
      }, now);
      return grant;
    });
  }

  /** One timer pass: expires every due grant (each in its own transaction with its event). */
  async expireDue(logger?: Logger, batch = 50): Promise<number> {
    let expired = 0;
    for (;;) {
      const n = await this.runtime.inTransaction({ id: `break-glass-expiry:${randomUUID()}`, correlationId: 'break-glass-expiry', tier: 'stat', source: 'policy-timer' }, async (ctx) => {
        const s = this.stores(ctx.uow);
        const due = await s.grants.claimDue(new Date(this.clock()), batch);
        for (const g of due) {
          await s.grants.markExpired(g.id);
          policyEvent(ctx, `break-glass-expired:${g.id}`, { kind: 'BREAK_GLASS_EXPIRED', epid: g.epid, subjectId: g.id, audience: g.audience, actor: g.actor, expiresAt: Date.parse(g.expiresAt), reason: 'the grant expired' });
        }
        return due.length;
      });
      expired += n;
      if (n < batch) break;
    }
    if (expired) logger?.info({ expired }, 'break-glass grants expired');
    return expired;
  }
}
