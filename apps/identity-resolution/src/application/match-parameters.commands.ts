import { randomBytes } from 'node:crypto';
import { assessParameterSet, estimateParameterSet, insufficientData } from '@clinmesh/empi';
import { ParameterEstimateRefusedError, ParameterSetNotFoundError, ParameterSetRevisionMismatchError, ParameterSetStateError } from '../domain/identity.errors';
import type { ParameterSetRow } from '../domain/parameter-set.model';
import type { PersonIndexPort } from '../domain/person-index.port';
import type { MasterPatientIndex } from './master-patient-index';

/** Runs `work` in one transaction of the index (the adapter supplies it). */
export type IndexTransaction = <T>(work: (repo: PersonIndexPort) => Promise<T>) => Promise<T>;

export interface MatchParameterOptions {
  /** Most (newest) records one estimate reads; EM cost grows with the candidate pairs among them. */
  maxRecords: number;
  /** Random pairs sampled for u. */
  randomPairs: number;
}

/**
 * Operator commands over the matcher's m/u parameters: estimate a new set by EM (per source or for
 * all sources; stored with status `estimated`, never used until activated), activate a set (the
 * previous active set of that source is retired), retire a set (back to the fallback), list them.
 * Nothing is re-estimated silently.
 */
export class MatchParameterCommands {
  constructor(
    private readonly index: MasterPatientIndex,
    private readonly options: MatchParameterOptions = { maxRecords: 20_000, randomPairs: 100_000 },
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * EM over the stored records of `sourceSystem` (null: all), unsupervised: u from random pairs, m per
   * training rule. Refused (422) when the data is too thin, or when the estimate is unsafe to score with
   * (a level's weight flips sign against the default, an EM session did not converge) — naming the levels.
   */
  async estimate(tx: IndexTransaction, sourceSystem: string | null, actor: string): Promise<ParameterSetRow> {
    const records = await tx((repo) => repo.parameters.recordsForEstimate(sourceSystem, this.options.maxRecords));
    const scope = sourceSystem === null ? 'all sources' : `source ${sourceSystem}`;
    // CPU only (a few seconds for 20,000 records), outside any transaction.
    const est = estimateParameterSet(records, { base: this.index.config, randomPairs: this.options.randomPairs, seed: 42 });
    const reasons = insufficientData(est);
    if (reasons.length) {
      throw new ParameterEstimateRefusedError('IDENTITY.PARAMETERS.INSUFFICIENT_DATA', `too little data for a meaningful estimate of ${scope}: ${reasons.join('; ')}`, {
        sourceSystem, records: est.records, candidatePairs: est.candidatePairs, sessions: est.sessions, reasons,
      });
    }
    const findings = assessParameterSet(est);
    if (findings.length) {
      throw new ParameterEstimateRefusedError('IDENTITY.PARAMETERS.UNSAFE', `the estimate of ${scope} is unsafe to score with: ${findings.map((f) => f.message).join('; ')}`, {
        sourceSystem, records: est.records, findings, levels: findings.filter((f) => f.comparison).map((f) => `${f.comparison}.${f.level}`),
      });
    }
    const stamp = new Date(this.now()).toISOString().replace(/[-:]/g, '').replace('.', '');
    const version = `em-${(sourceSystem ?? 'all').replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60)}-${stamp}-n${est.records}-${randomBytes(2).toString('hex')}`;
    return tx(async (repo) => {
      await repo.parameters.insert({
        version, sourceSystem, comparisons: est.comparisons, estimate: { levels: est.levels, sessions: est.sessions, baseVersion: this.index.config.version },
        lambda: est.lambda, iterations: est.iterations, converged: est.converged, candidatePairs: est.candidatePairs, randomPairs: est.randomPairs,
        records: est.records, createdBy: actor,
      });
      return (await repo.parameters.get(version))!;
    });
  }

  /**
   * Makes `version` the active set of its source; the source's previous active set is retired.
   * `expectedRevision` (If-Match) optional: 412 when the set changed since it was read. A set already
   * active or retired answers 409 with its state. Takes effect in this replica at once, in the others
   * within the reload interval.
   */
  async activate(tx: IndexTransaction, version: string, actor: string, expectedRevision?: number): Promise<{ activated: ParameterSetRow; retired: string | null }> {
    const out = await tx(async (repo) => {
      const found = await repo.parameters.get(version);
      if (!found) throw new ParameterSetNotFoundError(version);
      await repo.parameters.lockSource(found.sourceSystem);
      const set = (await repo.parameters.get(version, true))!;
      if (set.status !== 'estimated') throw new ParameterSetStateError(version, { status: set.status, revision: set.revision, sourceSystem: set.sourceSystem });
      if (expectedRevision !== undefined && expectedRevision !== set.revision) throw new ParameterSetRevisionMismatchError(version, expectedRevision, set.revision, set.status);
      const previous = (await repo.parameters.active()).find((a) => a.sourceSystem === set.sourceSystem);
      return { activated: await repo.parameters.activate(version, set.sourceSystem, actor), retired: previous?.version ?? null };
    });
    this.index.parametersChanged();
    return out;
  }

  /**
   * Retires a set: an estimate the operator will not use, or the active set of a source, which then
   * falls back to the all-sources set or the default (the way back from an activation). 409 when it
   * is already retired, 412 on a stale `expectedRevision`.
   */
  async retire(tx: IndexTransaction, version: string, actor: string, expectedRevision?: number): Promise<ParameterSetRow> {
    const out = await tx(async (repo) => {
      const found = await repo.parameters.get(version);
      if (!found) throw new ParameterSetNotFoundError(version);
      await repo.parameters.lockSource(found.sourceSystem);
      const set = (await repo.parameters.get(version, true))!;
      if (set.status === 'retired') throw new ParameterSetStateError(version, { status: set.status, revision: set.revision, sourceSystem: set.sourceSystem });
      if (expectedRevision !== undefined && expectedRevision !== set.revision) throw new ParameterSetRevisionMismatchError(version, expectedRevision, set.revision, set.status);
      return repo.parameters.retire(version, actor);
    });
    this.index.parametersChanged();
    return out;
  }

  async list(tx: IndexTransaction, limit = 200): Promise<{ sets: ParameterSetRow[]; active: ParameterSetRow[] }> {
    return tx(async (repo) => ({ sets: await repo.parameters.list(limit), active: await repo.parameters.active() }));
  }

  async get(tx: IndexTransaction, version: string): Promise<ParameterSetRow> {
    const set = await tx((repo) => repo.parameters.get(version));
    if (!set) throw new ParameterSetNotFoundError(version);
    return set;
  }
}
