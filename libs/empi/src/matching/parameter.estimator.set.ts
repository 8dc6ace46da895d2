import {
  COMPARISON_LEVELS, COMPARISON_NAMES, resolveMatchConfig, type ComparisonName, type ComparisonParameters, type LevelProbabilities, type MatchConfig,
} from './match-config.model';
import type { PersonRecord } from '../record/person-record.model';
import { normalizeRecord } from '../record/person-record.normalizer';
import { compareRecords, MISSING } from './record-comparison.comparator';
import { candidatePairs, estimateUFromRandomPairs, expectationMaximisation, levelOf, mapParameters, mulberry32 } from './parameter.estimator';

/**
 * A training rule of the EM (Splink's "estimate m with a blocking rule"): EM runs over the
 * candidate pairs that agree exactly on `fields`, with those fields left out of the model (they
 * agree by construction, so their m cannot be learnt there and must not drive the posterior).
 * Every other comparison's m is estimated in that session; a comparison's m is the mean over
 * the sessions that estimated it.
 *
 * Why sessions and not one EM over all candidate pairs: on US registrations most blocked pairs
 * are households (one surname, address and phone; twins also one birth date). One EM over them
 * converges to "same household" as its match class (λ ≈ 0.9, given-name disagreement almost
 * free) — the false-merge model this index exists to avoid. Pairs that share an SSN, or a birth
 * date and a family name, or a given name and a ZIP are mostly the same person, and the
 * remaining fields separate the rest.
 */
export interface TrainingRule {
  name: string;
  fields: ComparisonName[];
}

export const DEFAULT_TRAINING_RULES: readonly TrainingRule[] = [
  { name: 'same-national-id', fields: ['nationalId'] },
  { name: 'same-birth-date-and-family-name', fields: ['birthDate', 'familyName'] },
  { name: 'same-given-name-and-postcode', fields: ['givenName', 'postcode'] },
];

/** Below these an estimate is refused as not meaningful (see `insufficientData`). */
export const PARAMETER_ESTIMATE_MINIMUMS = {
  records: 200,
  candidatePairs: 200,
  /** Pairs a training session needs to run at all. */
  sessionPairs: 50,
  /** Observations of a level (training pairs for m, random pairs for u) below which the default is kept. */
  levelObservations: 20,
} as const;

export interface ParameterSetOptions {
  /** Default parameters (start values, priors, and what unseen levels keep). Default: DEFAULT_MATCH_CONFIG. */
  base?: Partial<MatchConfig>;
  /** Random pairs sampled for u (held fixed during EM). Default 100,000. */
  randomPairs?: number;
  seed?: number;
  maxIterations?: number;
  tolerance?: number;
  maxBlockSize?: number;
  rules?: readonly TrainingRule[];
  minimums?: Partial<typeof PARAMETER_ESTIMATE_MINIMUMS>;
}

export interface LevelEstimate {
  comparison: ComparisonName;
  level: string;
  m: number;
  u: number;
  /** log2(m/u) of the estimate and of the default. */
  weight: number;
  defaultWeight: number;
  /** `em`: estimated; `default`: too few observations (a level EM cannot see), the default kept. */
  mFrom: 'em' | 'default';
  uFrom: 'random-pairs' | 'default';
  trainingObservations: number;
  randomObservations: number;
}

export interface TrainingSession {
  rule: string;
  pairs: number;
  lambda: number;
  iterations: number;
  converged: boolean;
}

export interface ParameterSetEstimate {
  /** Every comparison level: estimated where the data shows it, the default elsewhere. */
  comparisons: ComparisonParameters;
  levels: LevelEstimate[];
  sessions: TrainingSession[];
  /**
   * Share of the engine's candidate pairs that are matches under the estimate, by the plain
   * Fellegi–Sunter sum (no caps or household rules, so households count as matches here: an
   * upper bound, reported for comparison between estimates, not used in scoring).
   */
  lambda: number;
  /** Sum over the sessions. */
  iterations: number;
  /** Every session that ran converged. */
  converged: boolean;
  candidatePairs: number;
  randomPairs: number;
  records: number;
}

export interface EstimateFinding {
  comparison: ComparisonName | null;
  level: string | null;
  problem: 'weight-sign-flipped' | 'not-converged';
  message: string;
  weight?: number;
  defaultWeight?: number;
}

/**
 * Estimates m and u for one source's records, unsupervised: u from random pairs (nearly all
 * non-matches), m by EM per training rule (u held fixed). Levels the data does not show often
 * enough keep the default (nickname, swapped day/month, last-4 … in a small or sparse source).
 * Thresholds, rules, caps and frequencies are not estimated: only m/u change.
 */
export function estimateParameterSet(records: readonly PersonRecord[], opts: ParameterSetOptions = {}): ParameterSetEstimate {
  const base = resolveMatchConfig(opts.base);
  const min = { ...PARAMETER_ESTIMATE_MINIMUMS, ...opts.minimums };
  const kappa = 1;
  const normalized = records.map(normalizeRecord);
  const compare = (i: number, j: number) => compareRecords(normalized[i], normalized[j], base.comparedIdentifiers).vector;
  const pairs = candidatePairs(normalized, base, opts.maxBlockSize ?? 1000);
  const pairVectors = pairs.map(([i, j]) => compare(i, j));

  // u from random pairs; a level seen fewer than `levelObservations` times keeps the default u
  // (a pseudo-count alone would make an unseen level's u collapse and its weight explode).
  const randomVectors: Int8Array[] = [];
  const randomPairCount = normalized.length > 1 ? (opts.randomPairs ?? 100_000) : 0;
  const rand = mulberry32(opts.seed ?? 42);
  for (let s = 0; s < randomPairCount; s++) {
    const i = Math.floor(rand() * normalized.length);
    let j = Math.floor(rand() * (normalized.length - 1));
    if (j >= i) j++;
    randomVectors.push(compare(i, j));
  }
  const randomCounts = levelCounts(randomVectors);
  const uRaw = estimateUFromRandomPairs(randomVectors, base.comparisons, kappa);
  const uOf = (name: ComparisonName, label: string): { u: number; from: 'random-pairs' | 'default' } =>
    count(randomCounts, name, label) >= min.levelObservations
      ? { u: levelOf(uRaw, name, label).u, from: 'random-pairs' }
      : { u: levelOf(base.comparisons, name, label).u, from: 'default' };
  const start = mapParameters(base.comparisons, (name, label, p) => ({ m: p.m, u: uOf(name, label).u }));

  // m by EM, one session per training rule.
  const sessions: TrainingSession[] = [];
  const mSums = COMPARISON_NAMES.map((name) => new Float64Array(COMPARISON_LEVELS[name].length));
  const mSessions = new Float64Array(COMPARISON_NAMES.length);
  const trainingCounts = COMPARISON_NAMES.map((name) => new Float64Array(COMPARISON_LEVELS[name].length));
  for (const rule of opts.rules ?? DEFAULT_TRAINING_RULES) {
    const fixed = rule.fields.map((f) => COMPARISON_NAMES.indexOf(f));
    const selected: Int8Array[] = [];
    for (const v of pairVectors) {
      if (!fixed.every((k) => v[k] === 0)) continue;
      const w = Int8Array.from(v);
      for (const k of fixed) w[k] = MISSING;
      selected.push(w);
    }
    if (selected.length < min.sessionPairs) continue;
    const em = expectationMaximisation(selected, start, {
      fixU: true, maxIterations: opts.maxIterations ?? 100, tolerance: opts.tolerance ?? 1e-5, pseudoCount: kappa, prior: base.comparisons, initialLambda: 0.5,
    });
    sessions.push({ rule: rule.name, pairs: selected.length, lambda: em.lambda, iterations: em.iterations, converged: em.converged });
    const seen = levelCounts(selected);
    COMPARISON_NAMES.forEach((name, k) => {
      if (fixed.includes(k)) return;
      const observed = seen[k].reduce((a, b) => a + b, 0);
      if (observed < min.levelObservations) return; // the field is (nearly) always missing in this session
      mSessions[k]++;
      (COMPARISON_LEVELS[name] as readonly string[]).forEach((label, l) => {
        mSums[k][l] += levelOf(em.comparisons, name, label).m;
        trainingCounts[k][l] += seen[k][l];
      });
    });
  }

  const levels: LevelEstimate[] = [];
  const comparisons = mapParameters(base.comparisons, (name, label, def) => {
    const k = COMPARISON_NAMES.indexOf(name);
    const l = (COMPARISON_LEVELS[name] as readonly string[]).indexOf(label);
    const trainingObservations = trainingCounts[k][l];
    // A level is estimated when EM saw it often enough (m); then u comes from random pairs when they show
    // it often enough. A level EM cannot see keeps the default m *and* u: a default m over an estimated u
    // would be a weight neither model stands behind.
    const mFrom = mSessions[k] > 0 && trainingObservations >= min.levelObservations ? 'em' : 'default';
    const m = mFrom === 'em' ? mSums[k][l] / mSessions[k] : def.m;
    const { u, from: uFrom } = mFrom === 'em' ? uOf(name, label) : { u: def.u, from: 'default' as const };
    levels.push({
      comparison: name, level: label, m, u, weight: Math.log2(m / u), defaultWeight: Math.log2(def.m / def.u), mFrom, uFrom,
      trainingObservations, randomObservations: count(randomCounts, name, label),
    });
    return { m, u };
  });
  return {
    comparisons, levels, sessions, lambda: matchShare(pairVectors, comparisons),
    iterations: sessions.reduce((a, s) => a + s.iterations, 0), converged: sessions.every((s) => s.converged),
    candidatePairs: pairs.length, randomPairs: randomVectors.length, records: records.length,
  };
}

/** Why the data is too thin for a meaningful estimate (empty: enough). */
export function insufficientData(estimate: Pick<ParameterSetEstimate, 'records' | 'candidatePairs' | 'sessions'>, minimums: Partial<typeof PARAMETER_ESTIMATE_MINIMUMS> = {}): string[] {
  const min = { ...PARAMETER_ESTIMATE_MINIMUMS, ...minimums };
  const out: string[] = [];
  if (estimate.records < min.records) out.push(`${estimate.records} records; at least ${min.records} are needed`);
  if (estimate.candidatePairs < min.candidatePairs) out.push(`${estimate.candidatePairs} candidate pairs; at least ${min.candidatePairs} are needed`);
  if (!estimate.sessions.length) out.push(`no training rule found ${min.sessionPairs} pairs (same national id; same birth date and family name; same given name and postcode)`);
  return out;
}

/**
 * Whether an estimate is safe to score with: every EM session converged, and no
 * estimated level's weight has the opposite sign of the default's (agreement turned into
 * evidence against a match, or a disagreement into evidence for one). Levels within ±0.25 bits
 * of neutral in the default carry no direction and are not checked.
 */
export function assessParameterSet(estimate: Pick<ParameterSetEstimate, 'levels' | 'sessions'>): EstimateFinding[] {
  const findings: EstimateFinding[] = [];
  for (const s of estimate.sessions) {
    if (!s.converged) findings.push({ comparison: null, level: null, problem: 'not-converged', message: `EM session ${s.rule} did not converge in ${s.iterations} iterations` });
  }
  for (const l of estimate.levels) {
    if (l.mFrom === 'default') continue;
    if (Math.abs(l.defaultWeight) < 0.25) continue;
    if (Math.sign(l.weight) !== Math.sign(l.defaultWeight)) {
      findings.push({
        comparison: l.comparison, level: l.level, problem: 'weight-sign-flipped', weight: round(l.weight), defaultWeight: round(l.defaultWeight),
        message: `${l.comparison}.${l.level}: estimated weight ${round(l.weight)} where the default is ${round(l.defaultWeight)}`,
      });
    }
  }
  return findings;
}

/** The config to score with under a parameter set: the base config (thresholds, rules, caps) with the set's m/u and version. */
export function parameterSetConfig(base: MatchConfig, set: { version: string; comparisons: ComparisonParameters }): MatchConfig {
  return resolveMatchConfig({ ...base, comparisons: set.comparisons, version: set.version });
}

/** The active set a record of `source` is scored with: its source's, else the all-sources one (sourceSystem null), else none (the default). */
export function chooseParameterSet<T extends { sourceSystem: string | null }>(active: readonly T[], source: string | null | undefined): T | undefined {
  return (source ? active.find((s) => s.sourceSystem === source) : undefined) ?? active.find((s) => s.sourceSystem === null);
}

function levelCounts(vectors: readonly Int8Array[]): Float64Array[] {
  const counts = COMPARISON_NAMES.map((name) => new Float64Array(COMPARISON_LEVELS[name].length));
  for (const v of vectors) for (let k = 0; k < v.length; k++) if (v[k] !== MISSING) counts[k][v[k]]++;
  return counts;
}

function count(counts: Float64Array[], name: ComparisonName, label: string): number {
  return counts[COMPARISON_NAMES.indexOf(name)][(COMPARISON_LEVELS[name] as readonly string[]).indexOf(label)];
}

/** λ by EM with m and u fixed: the share of candidate pairs that are matches. */
function matchShare(vectors: readonly Int8Array[], params: ComparisonParameters): number {
  if (!vectors.length) return 0;
  const weights = COMPARISON_NAMES.map((name) => (COMPARISON_LEVELS[name] as readonly string[]).map((label) => {
    const p: LevelProbabilities = levelOf(params, name, label);
    return Math.log2(p.m / p.u);
  }));
  const totals = vectors.map((v) => {
    let w = 0;
    for (let k = 0; k < v.length; k++) if (v[k] !== MISSING) w += weights[k][v[k]];
    return w;
  });
  let lambda = 0.1;
  for (let it = 0; it < 100; it++) {
    const prior = Math.log2(lambda / (1 - lambda));
    const next = Math.min(Math.max(totals.reduce((a, w) => a + 1 / (1 + Math.pow(2, -(w + prior))), 0) / totals.length, 1e-6), 1 - 1e-6);
    if (Math.abs(next - lambda) < 1e-7) return next;
    lambda = next;
  }
  return lambda;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
