import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pairwiseAccuracy } from './pairwise-accuracy.evaluator';

describe('pairwise accuracy', () => {
  it('counts pairs from cluster sizes', () => {
    const truth = new Map([['a', '1'], ['b', '1'], ['c', '1'], ['d', '2'], ['e', '3']]);
    const predicted = new Map([['a', 'X'], ['b', 'X'], ['c', 'Y'], ['d', 'Y'], ['e', 'Z']]);
    // true pairs: ab ac bc (3); predicted: ab cd (2); correct: ab (1)
    assert.deepEqual(pairwiseAccuracy(truth, predicted), { truePairs: 3, predictedPairs: 2, truePositives: 1, precision: 0.5, recall: 1 / 3, f1: 0.4 });
  });
});
