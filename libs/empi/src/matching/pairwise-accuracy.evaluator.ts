export interface PairwiseAccuracy {
  truePairs: number;
  predictedPairs: number;
  truePositives: number;
  precision: number;
  recall: number;
  f1: number;
}

const pairsOf = (n: number) => (n * (n - 1)) / 2;

function clusterSizes(labels: Iterable<string>): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const l of labels) sizes.set(l, (sizes.get(l) ?? 0) + 1);
  return sizes;
}

/**
 * Pairwise precision/recall of a clustering against the truth: a pair is
 * predicted when both records got the same person id, true when both share a
 * truth entity. Counted from cluster sizes, so no pair enumeration.
 */
export function pairwiseAccuracy(truth: ReadonlyMap<string, string>, predicted: ReadonlyMap<string, string>): PairwiseAccuracy {
  const ids = [...truth.keys()].filter((id) => predicted.has(id));
  let truePairs = 0;
  for (const n of clusterSizes(ids.map((id) => truth.get(id)!)).values()) truePairs += pairsOf(n);
  let predictedPairs = 0;
  for (const n of clusterSizes(ids.map((id) => predicted.get(id)!)).values()) predictedPairs += pairsOf(n);
  let truePositives = 0;
  for (const n of clusterSizes(ids.map((id) => `${truth.get(id)}\u0000${predicted.get(id)}`)).values()) truePositives += pairsOf(n);
  const precision = predictedPairs === 0 ? 1 : truePositives / predictedPairs;
  const recall = truePairs === 0 ? 1 : truePositives / truePairs;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { truePairs, predictedPairs, truePositives, precision, recall, f1 };
}
