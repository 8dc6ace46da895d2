import { COMPARISON_LEVELS, COMPARISON_NAMES, matchWeight, type ComparisonName, type MatchConfig } from './match-config.model';
import { MISSING, type ComparisonVector } from './record-comparison.comparator';

export interface FieldContribution {
  field: ComparisonName;
  /** Level label, or `missing` when either record lacks the field (weight 0). */
  level: string;
  weight: number;
}

/** Weight tables compiled once from a config: weights[comparison][level] = log2(m/u). */
export class MatchWeights {
  private readonly table: Float64Array[];
  private readonly caps: Array<{ indexes: number[]; max: number }>;
  private readonly uncapped: number[];

  constructor(readonly config: MatchConfig) {
    this.table = COMPARISON_NAMES.map((name) => {
      const levels = COMPARISON_LEVELS[name] as readonly string[];
      const params = config.comparisons[name] as Record<string, { m: number; u: number }>;
      return Float64Array.from(levels.map((label) => matchWeight(params[label])));
    });
    this.caps = config.weightCaps.map((cap) => ({ indexes: cap.fields.map((f) => COMPARISON_NAMES.indexOf(f)), max: cap.max }));
    const inCap = new Set(this.caps.flatMap((c) => c.indexes));
    this.uncapped = COMPARISON_NAMES.map((_, i) => i).filter((i) => !inCap.has(i));
  }

  weight(comparison: number, level: number): number {
    return level === MISSING ? 0 : this.table[comparison][level];
  }

  /**
   * Total match weight: the sum of the per-field log2 Bayes factors (missing
   * fields add 0), each capped group contributing at most its cap.
   */
  score(vector: ComparisonVector): number {
    let total = 0;
    for (const i of this.uncapped) if (vector[i] !== MISSING) total += this.table[i][vector[i]];
    for (const cap of this.caps) {
      let group = 0;
      for (const i of cap.indexes) if (vector[i] !== MISSING) group += this.table[i][vector[i]];
      total += Math.min(group, cap.max);
    }
    return total;
  }

  /** Per-field weights as in the model, before group caps (the score may be lower than their sum). */
  contributions(vector: ComparisonVector): FieldContribution[] {
    return COMPARISON_NAMES.map((field, i) => ({
      field,
      level: vector[i] === MISSING ? 'missing' : (COMPARISON_LEVELS[field] as readonly string[])[vector[i]],
      weight: this.weight(i, vector[i]),
    }));
  }
}
