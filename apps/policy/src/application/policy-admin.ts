import { randomUUID } from 'node:crypto';
import { ClinmeshError } from '@clinmesh/errors';
import type { EventRuntime } from '@clinmesh/event-runtime';
import { CompiledPolicy } from '../domain/policy-set';
import { PolicyValidationError } from '../domain/policy-set.validator';
import type { PolicyStore } from './policy-store';
import type { StoresFactory } from './ports';
import { policyEvent } from './patient-events.handlers';

/**
 * Policy versions as data: the shipped file at start, an operator's document
 * at run time (validated, every error listed), activated without restart; a
 * candidate evaluated in shadow mode, promoted or discarded by an operator.
 */
export class PolicyAdmin {
  constructor(private readonly runtime: EventRuntime, private readonly store: PolicyStore, private readonly stores: StoresFactory) {}

  validate(document: unknown, source: string): CompiledPolicy {
    try {
      return this.store.validator.policy(document, source);
    } catch (e) {
      if (e instanceof PolicyValidationError) {
        throw new ClinmeshError('POLICY.INVALID_POLICY', `${source} has ${e.problems.length} problem(s)`, { status: 422, details: { errors: e.problems } });
      }
      throw e;
    }
  }

  /**
   * At start, before consumers run (reads only): the shipped file decides when its version is new to the
   * database (a deployment); otherwise the stored active version stays in force, and a stored candidate
   * resumes shadow mode.
   */
  async resume(shipped: CompiledPolicy, sql: Parameters<StoresFactory>[0]): Promise<void> {
    const s = this.stores(sql);
    if (await s.versions.known(shipped.version)) {
      const active = await s.versions.active();
      if (active) this.store.activate(this.validate(active.document, `stored version ${active.version}`), new Date(active.activatedAt));
    }
    const candidate = await s.versions.candidate();
    if (candidate && candidate.version !== this.store.active.version) this.store.setCandidate(this.validate(candidate.document, `stored candidate ${candidate.version}`));
  }

  /**
   * Follows the database, the one record of what is active: an activation, a promotion, a candidate
   * loaded or discarded through another replica is taken over here (run by a timer; a no-op when
   * nothing changed). Returns what changed.
   */
  async follow(sql: Parameters<StoresFactory>[0]): Promise<{ active: string | null; candidate: string | null | undefined }> {
    const s = this.stores(sql);
    const seen = this.store.generation;
    const active = await s.versions.active();
    const candidate = await s.versions.candidate();
    // An activation, promotion or candidate change made in this process while we read is newer than what
    // we read (it committed after our read began): leave it, the next follow sees the database as it is now.
    if (this.store.generation !== seen) return { active: null, candidate: undefined };
    let changedActive: string | null = null;
    if (active && active.version !== this.store.active.version) {
      this.store.activate(this.validate(active.document, `stored version ${active.version}`), new Date(active.activatedAt));
      changedActive = active.version;
    }
    const stored = candidate && candidate.version !== this.store.active.version ? candidate : undefined;
    let changedCandidate: string | null | undefined;
    if ((stored?.version ?? null) !== (this.store.candidate?.version ?? null)) {
      this.store.setCandidate(stored ? this.validate(stored.document, `stored candidate ${stored.version}`) : null);
      changedCandidate = stored?.version ?? null;
    }
    return { active: changedActive, candidate: changedCandidate };
  }

  /** After start: a shipped version new to the database is recorded as active, with its POLICY_ACTIVATED event. */
  async recordShipped(shipped: CompiledPolicy, source: string): Promise<void> {
    await this.runtime.inTransaction({ id: `policy-shipped:${shipped.version}`, correlationId: `policy-shipped:${shipped.version}`, tier: 'routine', source: 'policy-start' }, async (ctx) => {
      const s = this.stores(ctx.uow);
      if (await s.versions.known(shipped.version)) return;
      await s.versions.activate(shipped.version, shipped.set, source);
      policyEvent(ctx, 'policy-activated', { kind: 'POLICY_ACTIVATED', epid: null, subjectId: shipped.version, reason: `shipped policy file ${source}` });
    });
  }

  async activate(document: unknown, actor: string): Promise<CompiledPolicy> {
    const compiled = this.validate(document, 'policy document');
    await this.runtime.inTransaction({ id: `policy-activate:${compiled.version}:${randomUUID()}`, correlationId: randomUUID(), tier: 'routine', source: 'policy-api' }, async (ctx) => {
      await this.stores(ctx.uow).versions.activate(compiled.version, compiled.set, `operator ${actor}`);
      policyEvent(ctx, 'policy-activated', { kind: 'POLICY_ACTIVATED', epid: null, subjectId: compiled.version, actor, reason: 'activated by an operator' });
    });
    this.store.activate(compiled);
    return compiled;
  }

  async loadCandidate(document: unknown, actor: string): Promise<CompiledPolicy> {
    const compiled = this.validate(document, 'candidate policy document');
    if (compiled.version === this.store.active.version) {
      throw new ClinmeshError('POLICY.CANDIDATE_IS_ACTIVE', `version ${compiled.version} is the active version; a candidate needs a new version`, { status: 409 });
    }
    await this.runtime.inTransaction({ id: `policy-candidate:${compiled.version}:${randomUUID()}`, correlationId: randomUUID(), tier: 'routine', source: 'policy-api' }, async (ctx) => {
      await this.stores(ctx.uow).versions.saveCandidate(compiled.version, compiled.set, `operator ${actor}`);
    });
    this.store.setCandidate(compiled);
    return compiled;
  }

  async promote(actor: string, expectedVersion?: string): Promise<CompiledPolicy> {
    const candidate = this.requireCandidate(expectedVersion);
    await this.runtime.inTransaction({ id: `policy-promote:${candidate.version}:${randomUUID()}`, correlationId: randomUUID(), tier: 'routine', source: 'policy-api' }, async (ctx) => {
      await this.stores(ctx.uow).versions.activate(candidate.version, candidate.set, `promoted by ${actor}`);
      policyEvent(ctx, 'policy-activated', { kind: 'POLICY_ACTIVATED', epid: null, subjectId: candidate.version, actor, reason: 'shadow candidate promoted' });
    });
    this.store.activate(candidate);
    return candidate;
  }

  async discard(expectedVersion?: string): Promise<string> {
    const candidate = this.requireCandidate(expectedVersion);
    await this.runtime.inTransaction({ id: `policy-discard:${candidate.version}:${randomUUID()}`, correlationId: randomUUID(), tier: 'routine', source: 'policy-api' }, async (ctx) => {
      await this.stores(ctx.uow).versions.discardCandidate();
    });
    this.store.setCandidate(null);
    return candidate.version;
  }

  private requireCandidate(expectedVersion?: string): CompiledPolicy {
    const candidate = this.store.candidate;
    if (!candidate) throw new ClinmeshError('POLICY.NO_CANDIDATE', 'no candidate policy version is in shadow mode', { status: 409 });
    if (expectedVersion && expectedVersion !== candidate.version) {
      throw new ClinmeshError('POLICY.VERSION_MISMATCH', `the candidate is ${candidate.version}, not ${expectedVersion}`, { status: 412, details: { candidate: candidate.version } });
    }
    return candidate;
  }
}
