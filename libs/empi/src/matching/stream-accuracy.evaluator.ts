import type { FebrlRow } from '../record/febrl-dataset.reader';
import { InMemoryCandidateStore } from '../store/in-memory-candidate.store';
import { countNames, frequencySnapshotFromCounts, usNameFrequencySeed } from '../frequency/name-frequency.model';
import type { MatchConfig } from './match-config.model';
import { MatchEngine } from './match.engine';
import { pairwiseAccuracy, type PairwiseAccuracy } from './pairwise-accuracy.evaluator';

export interface StreamAccuracy extends PairwiseAccuracy {
  records: number;
  reviews: number;
  /** Records whose person holds another household member's record (twins, siblings, parents, spouses). */
  householdFalseMergePairs: number;
  predicted: Map<string, string>;
}

/**
 * Streams labelled rows through a fresh in-memory engine in order, as messages would
 * arrive, refreshing the term-frequency snapshot from the index every `tfRefresh`
 * records (never per record), and scores the result pairwise against the truth.
 */
export async function streamAccuracy(
  rows: Array<FebrlRow & { householdId?: string }>,
  options: { config?: Partial<MatchConfig>; tfRefresh?: number } = {},
): Promise<StreamAccuracy> {
  const store = new InMemoryCandidateStore();
  let n = 0;
  const engine = new MatchEngine({ store, config: options.config, personIdGenerator: () => `P${++n}` });
  const truth = new Map<string, string>();
  const predicted = new Map<string, string>();
  const refresh = options.tfRefresh ?? 1000;
  let reviews = 0;
  let since = 0;
  let version = 0;
  for (const row of rows) {
    const result = await engine.match(row.record);
    truth.set(row.record.recordId, row.entity);
    predicted.set(row.record.recordId, result.personId);
    if (result.decision === 'review') reviews++;
    if (++since >= refresh) {
      since = 0;
      engine.useFrequencies(frequencySnapshotFromCounts(countNames(store.allRecords()), usNameFrequencySeed(), `index-${++version}`));
    }
  }
  let householdFalseMergePairs = 0;
  const byPerson = new Map<string, Array<FebrlRow & { householdId?: string }>>();
  for (const row of rows) {
    const p = predicted.get(row.record.recordId)!;
    byPerson.set(p, [...(byPerson.get(p) ?? []), row]);
  }
  for (const members of byPerson.values()) {
    for (let a = 0; a < members.length; a++) {
      for (let b = a + 1; b < members.length; b++) {
        const x = members[a];
        const y = members[b];
        if (x.entity !== y.entity && x.householdId !== undefined && x.householdId === y.householdId) householdFalseMergePairs++;
      }
    }
  }
  return { ...pairwiseAccuracy(truth, predicted), records: rows.length, reviews, householdFalseMergePairs, predicted };
}
