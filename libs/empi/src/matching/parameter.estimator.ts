import { blockingKeys } from './blocking-key.generator';
import {
  COMPARISON_LEVELS, COMPARISON_NAMES, DEFAULT_MATCH_CONFIG, resolveMatchConfig,
  type ComparisonName, type ComparisonParameters, type LevelProbabilities, type MatchConfig,
} from './match-config.model';
import type { PersonRecord } from '../record/person-record.model';
import { normalizeRecord, type NormalizedRecord } from '../record/person-record.normalizer';
import { compareRecords, MISSING } from './record-comparison.comparator';

export interface EstimateOptions {
  /** Starting point (and the source of identifier selectors / blocking settings); defaults to DEFAULT_MATCH_CONFIG. */
  baseConfig?: Partial<MatchConfig>;
  /** Sample this many random pairs to estimate u, then hold u fixed during EM (Splink's approach). 0 = estimate u by EM too. Default 100_000. */
  randomPairs?: number;
  maxIterations?: number;
  /** Stop when no m/u/λ moves by more than this. */
  tolerance?: number;
  /** Blocks bigger than this are skipped when generating candidate pairs (bounded work on common keys). */
  maxBlockSize?: number;
  /** Seed of the random-pair sampler, so estimates are reproducible. */
  seed?: number;
  /** Pseudo-count pulling each level towards the base config (keeps unseen levels off zero). */
  pseudoCount?: number;
}

export interface ParameterEstimate {
  config: MatchConfig;
  /** Estimated proportion of candidate pairs that are matches. */
  lambda: number;
  iterations: number;
  converged: boolean;
  candidatePairs: number;
  randomPairs: number;
}

/** Deterministic PRNG (mulberry32) so estimates do not depend on Math.random. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Comparison-vector patterns with their counts: EM runs over distinct patterns, not pairs. */
function tally(vectors: Iterable<Int8Array>): Map<string, { vector: Int8Array; count: number }> {
  const patterns = new Map<string, { vector: Int8Array; count: number }>();
  for (const v of vectors) {
    const key = v.join(',');
    const p = patterns.get(key);
    if (p) p.count++;
    else patterns.set(key, { vector: v, count: 1 });
  }
  return patterns;
}

/** Pairs of records sharing a blocking key (record ids excluded; blocks above `maxBlockSize` skipped). */
export function candidatePairs(records: NormalizedRecord[], config: MatchConfig, maxBlockSize: number): Array<[number, number]> {
  const blocks = new Map<string, number[]>();
  records.forEach((r, i) => {
    for (const key of blockingKeys(r, config)) {
      if (key.startsWith('r:')) continue; // a record id blocks only with itself
      let list = blocks.get(key);
      if (!list) blocks.set(key, (list = []));
      list.push(i);
    }
  });
  const seen = new Set<number>();
  const pairs: Array<[number, number]> = [];
  const n = records.length;
  for (const members of blocks.values()) {
    if (members.length < 2 || members.length > maxBlockSize) continue;
    for (let x = 0; x < members.length; x++) {
      for (let y = x + 1; y < members.length; y++) {
        const i = Math.min(members[x], members[y]);
        const j = Math.max(members[x], members[y]);
        const id = i * n + j;
        if (seen.has(id)) continue;
        seen.add(id);
        pairs.push([i, j]);
      }
    }
  }
  return pairs;
}

/**
 * Estimates m/u probabilities by expectation maximisation (Fellegi–Sunter
 * with conditional independence, missing values ignored per field) over the
 * candidate pairs the blocking keys produce. u comes from random pairs by
 * default (almost all random pairs are non-matches) and is held fixed, which
 * keeps EM from drifting towards a "household" or "same-suburb" latent class.
 * Thresholds, identifier selectors and the candidate limit are copied from
 * the base config: EM estimates evidence, not policy.
 */
export function estimateParameters(records: PersonRecord[], opts: EstimateOptions = {}): ParameterEstimate {
  const base = resolveMatchConfig(opts.baseConfig);
  const maxIterations = opts.maxIterations ?? 50;
  const tolerance = opts.tolerance ?? 1e-5;
  const kappa = opts.pseudoCount ?? 1;
  const randomPairCount = opts.randomPairs ?? 100_000;
  const normalized = records.map(normalizeRecord);
  const compare = (i: number, j: number) => compareRecords(normalized[i], normalized[j], base.comparedIdentifiers).vector;

  const pairs = candidatePairs(normalized, base, opts.maxBlockSize ?? 1000);
  const pairVectors = pairs.map(([i, j]) => compare(i, j));

  let u: ComparisonParameters | undefined;
  let sampled = 0;
  if (randomPairCount > 0 && normalized.length > 1) {
    const rand = mulberry32(opts.seed ?? 42);
    const vectors: Int8Array[] = [];
    for (let s = 0; s < randomPairCount; s++) {
      const i = Math.floor(rand() * normalized.length);
      let j = Math.floor(rand() * (normalized.length - 1));
      if (j >= i) j++;
      vectors.push(compare(i, j));
    }
    sampled = vectors.length;
    u = estimateUFromRandomPairs(vectors, base.comparisons, kappa);
  }
  const start = u ? mapParameters(base.comparisons, (name, label, p) => ({ m: p.m, u: levelOf(u!, name, label).u })) : base.comparisons;
  const em = expectationMaximisation(pairVectors, start, { fixU: u !== undefined, maxIterations, tolerance, pseudoCount: kappa, prior: base.comparisons });
  return { config: { ...base, comparisons: em.comparisons }, lambda: em.lambda, iterations: em.iterations, converged: em.converged, candidatePairs: pairs.length, randomPairs: sampled };
}

export function levelOf(params: ComparisonParameters, name: ComparisonName, label: string): LevelProbabilities {
  return (params[name] as Record<string, LevelProbabilities>)[label];
}

export function mapParameters(params: ComparisonParameters, fn: (name: ComparisonName, label: string, p: LevelProbabilities) => LevelProbabilities): ComparisonParameters {
  return Object.fromEntries(
    COMPARISON_NAMES.map((name) => [name, Object.fromEntries((COMPARISON_LEVELS[name] as readonly string[]).map((label) => [label, fn(name, label, levelOf(params, name, label))]))]),
  ) as unknown as ComparisonParameters;
}

function toArrays(params: ComparisonParameters): LevelProbabilities[][] {
  return COMPARISON_NAMES.map((name) => (COMPARISON_LEVELS[name] as readonly string[]).map((label) => ({ ...levelOf(params, name, label) })));
}

function fromArrays(arrays: LevelProbabilities[][]): ComparisonParameters {
  return mapParameters(DEFAULT_MATCH_CONFIG.comparisons, (name, label) => {
    const k = COMPARISON_NAMES.indexOf(name);
    return { ...arrays[k][(COMPARISON_LEVELS[name] as readonly string[]).indexOf(label)] };
  });
}

/**
 * u from random pairs: the share of each level among random pairs (nearly all
 * non-matches), with a pseudo-count towards the prior so unseen levels stay positive.
 */
export function estimateUFromRandomPairs(vectors: readonly Int8Array[], prior: ComparisonParameters, pseudoCount = 1): ComparisonParameters {
  const priors = toArrays(prior);
  const counts = priors.map((levels) => new Float64Array(levels.length));
  for (const v of vectors) for (let k = 0; k < v.length; k++) if (v[k] !== MISSING) counts[k][v[k]]++;
  const out = priors.map((levels, k) => {
    const total = counts[k].reduce((a, b) => a + b, 0);
    return levels.map((p, l) => ({ m: p.m, u: (counts[k][l] + pseudoCount * p.u) / (total + pseudoCount) }));
  });
  return fromArrays(out);
}

export interface ExpectationMaximisationOptions {
  /** Keep u as given (estimated from random pairs) and estimate only m and λ. */
  fixU?: boolean;
  maxIterations?: number;
  tolerance?: number;
  initialLambda?: number;
  /** Pseudo-count towards `prior` (defaults to the start values). */
  pseudoCount?: number;
  prior?: ComparisonParameters;
}

export interface ExpectationMaximisationResult {
  comparisons: ComparisonParameters;
  lambda: number;
  iterations: number;
  converged: boolean;
}

/**
 * Fellegi–Sunter EM over comparison vectors (conditional independence;
 * a MISSING field contributes to neither class). Runs over distinct
 * patterns with counts, so cost depends on pattern diversity, not pair count.
 */
export function expectationMaximisation(vectors: readonly Int8Array[], start: ComparisonParameters, options: ExpectationMaximisationOptions = {}): ExpectationMaximisationResult {
  const maxIterations = options.maxIterations ?? 50;
  const tolerance = options.tolerance ?? 1e-5;
  const kappa = options.pseudoCount ?? 1;
  const fixU = options.fixU ?? false;
  const params = toArrays(start);
  const prior = toArrays(options.prior ?? start);
  const patterns = [...tally(vectors).values()];
  let lambda = options.initialLambda ?? 0.1;
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations && patterns.length > 0) {
    iterations++;
    const mCounts = params.map((levels) => new Float64Array(levels.length));
    const uCounts = params.map((levels) => new Float64Array(levels.length));
    let matchMass = 0;
    let total = 0;
    const logPrior = Math.log2(lambda / (1 - lambda));
    for (const { vector, count } of patterns) {
      let w = logPrior;
      for (let k = 0; k < vector.length; k++) if (vector[k] !== MISSING) w += Math.log2(params[k][vector[k]].m / params[k][vector[k]].u);
      const p = 1 / (1 + Math.pow(2, -w)); // posterior match probability of this pattern
      matchMass += p * count;
      total += count;
      for (let k = 0; k < vector.length; k++) {
        if (vector[k] === MISSING) continue;
        mCounts[k][vector[k]] += p * count;
        uCounts[k][vector[k]] += (1 - p) * count;
      }
    }
    let delta = Math.abs(matchMass / total - lambda);
    lambda = Math.min(Math.max(matchMass / total, 1e-6), 1 - 1e-6);
    params.forEach((levels, k) => {
      const mTotal = mCounts[k].reduce((a, b) => a + b, 0);
      const uTotal = uCounts[k].reduce((a, b) => a + b, 0);
      levels.forEach((p, l) => {
        const m = (mCounts[k][l] + kappa * prior[k][l].m) / (mTotal + kappa);
        delta = Math.max(delta, Math.abs(m - p.m));
        p.m = m;
        if (!fixU) {
          const u = (uCounts[k][l] + kappa * prior[k][l].u) / (uTotal + kappa);
          delta = Math.max(delta, Math.abs(u - p.u));
          p.u = u;
        }
      });
    });
    if (delta < tolerance) {
      converged = true;
      break;
    }
  }
  return { comparisons: fromArrays(params), lambda, iterations, converged };
}
