import { COMPARISON_LEVELS, COMPARISON_NAMES, matchWeight, type ComparisonName, type MatchConfig } from './match-config.model';
import { MISSING, type ComparisonVector } from './record-comparison.comparator';

export interface FieldContribution {
  field: ComparisonName;
  /** Level label, or `missing` when either record lacks the field (weight 0). */
  level: string;
  weight: number;
  /** Share of persons carrying the agreed value, when the weight was term-frequency adjusted. */
  termFrequency?: number;
}

/** Shares of the agreed names (exact agreement only) for term-frequency adjustment. */
export interface TermFrequencies {
  givenName?: number;
  familyName?: number;
}

/** Weight tables compiled once from a config: weights[comparison][level] = log2(m/u). */
export class MatchWeights {
  private readonly table: Float64Array[];
  private readonly caps: Array<{ indexes: number[]; max: number; min: number; gate: number[] }>;
  private readonly uncapped: number[];

  constructor(readonly config: MatchConfig) {
    this.table = COMPARISON_NAMES.map((name) => {
      const levels = COMPARISON_LEVELS[name] as readonly string[];
      const params = config.comparisons[name] as Record<string, { m: number; u: number }>;
      return Float64Array.from(levels.map((label) => matchWeight(params[label])));
    });
    this.caps = config.weightCaps.map((cap) => ({
      indexes: cap.fields.map((f) => COMPARISON_NAMES.indexOf(f)), max: cap.max, min: cap.min ?? -Infinity,
      gate: (cap.positiveOnlyWith ?? []).map((f) => COMPARISON_NAMES.indexOf(f)),
    }));
    const inCap = new Set(this.caps.flatMap((c) => c.indexes));
    this.uncapped = COMPARISON_NAMES.map((_, i) => i).filter((i) => !inCap.has(i));
    this.tfIndexes = config.termFrequency.fields.map((field) => ({
      index: COMPARISON_NAMES.indexOf(field), field, m: (config.comparisons[field] as Record<string, { m: number }>).exact.m,
    }));
  }

  private readonly tfIndexes: Array<{ index: number; field: 'givenName' | 'familyName'; m: number }>;

  weight(comparison: number, level: number, tf?: TermFrequencies): number {
    if (level === MISSING) return 0;
    if (level === 0 && tf) {
      for (const t of this.tfIndexes) {
        if (t.index === comparison && tf[t.field] !== undefined) return Math.log2(t.m / Math.max(tf[t.field]!, this.config.termFrequency.minimumU));
      }
    }
    return this.table[comparison][level];
  }

  /**
   * Total match weight: the sum of the per-field log2 Bayes factors (missing
   * fields add 0), each capped group contributing at most its cap.
   */
  score(vector: ComparisonVector, tf?: TermFrequencies): number {
    let total = 0;
    for (const i of this.uncapped) if (vector[i] !== MISSING) total += this.weight(i, vector[i], tf);
    for (const cap of this.caps) {
      let group = 0;
      for (const i of cap.indexes) if (vector[i] !== MISSING) group += this.weight(i, vector[i], tf);
      const open = cap.gate.length === 0 || cap.gate.some((i) => vector[i] !== MISSING && vector[i] < COMPARISON_LEVELS[COMPARISON_NAMES[i]].length - 1);
      total += Math.max(cap.min, Math.min(group, open ? cap.max : 0));
    }
    return total;
  }

  /** Per-field weights as in the model, before group caps (the score may be lower than their sum). */
  contributions(vector: ComparisonVector, tf?: TermFrequencies): FieldContribution[] {
    return COMPARISON_NAMES.map((field, i) => {
      const c: FieldContribution = {
        field,
        level: vector[i] === MISSING ? 'missing' : (COMPARISON_LEVELS[field] as readonly string[])[vector[i]],
        weight: this.weight(i, vector[i], tf),
      };
      const share = vector[i] === 0 && (field === 'givenName' || field === 'familyName') && this.tfIndexes.some((t) => t.field === field) ? tf?.[field] : undefined;
      if (share !== undefined) c.termFrequency = share;
      return c;
    });
  }
}
