import type { LevelEstimate, ParameterSetEstimate, PersonRecord, TrainingSession } from '@clinmesh/empi';

/**
 * A persisted, versioned set of m/u parameters estimated by EM from the index's records (of one
 * source, or of all sources when `sourceSystem` is null). Immutable once written; only the
 * activation fields (status, activated/retired at/by, revision) change, by operator command.
 */
export type ParameterSetStatus = 'estimated' | 'active' | 'retired';

/** The estimate's figures (comparisons: every level, estimated where EM saw it, the default elsewhere) plus its identity and lifecycle. */
export interface ParameterSetRow extends Pick<ParameterSetEstimate, 'comparisons' | 'lambda' | 'iterations' | 'converged' | 'candidatePairs' | 'randomPairs' | 'records'> {
  version: string;
  sourceSystem: string | null;
  /** Per level: m, u, weight vs the default weight, where each came from, observation counts; EM sessions. */
  estimate: { levels: LevelEstimate[]; sessions: TrainingSession[]; baseVersion: string };
  status: ParameterSetStatus;
  /** Bumped on every status change: the ETag (If-Match on activate). */
  revision: number;
  createdAt: string;
  createdBy: string;
  activatedAt: string | null;
  activatedBy: string | null;
  retiredAt: string | null;
  retiredBy: string | null;
}

export type NewParameterSet = Omit<ParameterSetRow, 'status' | 'revision' | 'createdAt' | 'activatedAt' | 'activatedBy' | 'retiredAt' | 'retiredBy'>;

/** Parameter-set storage, inside the caller's transaction. */
export interface ParameterSetPort {
  /** Stored records of one source (null: all sources), newest first, at most `limit`. */
  recordsForEstimate(sourceSystem: string | null, limit: number): Promise<PersonRecord[]>;
  insert(set: NewParameterSet): Promise<void>;
  /** One set; `lock` takes a row lock for this transaction. */
  get(version: string, lock?: boolean): Promise<ParameterSetRow | undefined>;
  list(limit: number): Promise<ParameterSetRow[]>;
  /** The active set of each source (and the all-sources one). */
  active(): Promise<ParameterSetRow[]>;
  /** Serialises activations for one source (advisory lock for this transaction). */
  lockSource(sourceSystem: string | null): Promise<void>;
  /** Retires the active set of `sourceSystem` (if any) and activates `version`; returns the activated row. */
  activate(version: string, sourceSystem: string | null, actor: string): Promise<ParameterSetRow>;
  /** Retires one set (active: its source falls back to the all-sources set or the default). */
  retire(version: string, actor: string): Promise<ParameterSetRow>;
}

/** The summary an operator reads: per comparison level m, u, weight (and the default's), where it came from. */
export function parameterSetView(set: ParameterSetRow) {
  const byComparison: Record<string, Record<string, { m: number; u: number; weight: number; defaultWeight: number; estimated: boolean }>> = {};
  for (const l of set.estimate.levels) {
    (byComparison[l.comparison] ??= {})[l.level] = {
      m: sig(l.m), u: sig(l.u), weight: round(l.weight), defaultWeight: round(l.defaultWeight), estimated: l.mFrom === 'em',
    };
  }
  return {
    version: set.version, sourceSystem: set.sourceSystem, status: set.status, revision: set.revision,
    lambda: sig(set.lambda), iterations: set.iterations, converged: set.converged,
    candidatePairs: set.candidatePairs, randomPairs: set.randomPairs, records: set.records,
    sessions: set.estimate.sessions.map((s) => ({ ...s, lambda: sig(s.lambda) })), baseVersion: set.estimate.baseVersion,
    createdAt: set.createdAt, createdBy: set.createdBy, activatedAt: set.activatedAt, activatedBy: set.activatedBy, retiredAt: set.retiredAt, retiredBy: set.retiredBy,
    comparisons: byComparison,
  };
}

const round = (n: number): number => Math.round(n * 100) / 100;
const sig = (n: number): number => Number(n.toPrecision(4));
