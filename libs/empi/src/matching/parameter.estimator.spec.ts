import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COMPARISON_LEVELS, COMPARISON_NAMES, DEFAULT_MATCH_CONFIG, type ComparisonParameters } from './match-config.model';
import { estimateParameters, expectationMaximisation, mulberry32 } from './parameter.estimator';
import { MISSING } from './record-comparison.comparator';


function draw(probabilities: number[], r: number): number {
  let acc = 0;
  for (let i = 0; i < probabilities.length; i++) if (r < (acc += probabilities[i])) return i;
  return probabilities.length - 1;
}

describe('expectation maximisation', () => {
  // Known truth on four comparisons; the others are always missing.
  const truth: Partial<Record<(typeof COMPARISON_NAMES)[number], { m: number[]; u: number[] }>> = {
    givenName: { m: [0.8, 0.02, 0.01, 0.07, 0.03, 0.03, 0.04], u: [0.01, 0.002, 0.001, 0.009, 0.02, 0.05, 0.908] },
    familyName: { m: [0.85, 0.07, 0.03, 0.02, 0.03], u: [0.005, 0.01, 0.02, 0.05, 0.915] },
    birthDate: { m: [0.9, 0.01, 0.05, 0.02, 0.02], u: [0.002, 0.001, 0.01, 0.05, 0.937] },
    postcode: { m: [0.85, 0.1, 0.05], u: [0.02, 0.08, 0.9] },
  };

  it('recovers known m, u and λ from synthetic comparison vectors', () => {
    const random = mulberry32(7);
    const lambda = 0.2;
    const vectors: Int8Array[] = [];
    for (let i = 0; i < 60_000; i++) {
      const match = random() < lambda;
      const v = new Int8Array(COMPARISON_NAMES.length).fill(MISSING);
      for (const [name, p] of Object.entries(truth)) {
        // 10% missing at random must not bias anything.
        if (random() < 0.1) continue;
        v[COMPARISON_NAMES.indexOf(name as (typeof COMPARISON_NAMES)[number])] = draw(match ? p.m : p.u, random());
      }
      vectors.push(v);
    }
    // Start far from the truth: flat m slightly favouring agreement, flat u.
    const start = Object.fromEntries(COMPARISON_NAMES.map((name) => {
      const labels = COMPARISON_LEVELS[name] as readonly string[];
      return [name, Object.fromEntries(labels.map((l, i) => [l, { m: i === 0 ? 0.5 : 0.5 / (labels.length - 1), u: 1 / labels.length }]))];
    })) as unknown as ComparisonParameters;
    const result = expectationMaximisation(vectors, start, { maxIterations: 500, tolerance: 1e-7 });
    assert.ok(result.converged);
    assert.ok(Math.abs(result.lambda - lambda) < 0.01, `λ ${result.lambda}`);
    for (const [name, p] of Object.entries(truth)) {
      const labels = COMPARISON_LEVELS[name as keyof typeof COMPARISON_LEVELS] as readonly string[];
      const est = (result.comparisons as unknown as Record<string, Record<string, { m: number; u: number }>>)[name];
      labels.forEach((label, i) => {
        assert.ok(Math.abs(est[label].m - p.m[i]) < 0.02, `${name}.${label}.m ${est[label].m} vs ${p.m[i]}`);
        assert.ok(Math.abs(est[label].u - p.u[i]) < 0.02, `${name}.${label}.u ${est[label].u} vs ${p.u[i]}`);
      });
    }
  });

  it('estimateParameters on records returns a valid config where agreement is evidence', () => {
    const people = ['ann lee', 'bob stone', 'carl ng', 'dora oak', 'eve pine', 'finn ash', 'gus elm', 'hal fir'];
    const records = people.flatMap((name, i) => {
      const [given, family] = name.split(' ');
      const rec = { givenName: given, familyName: family, birthDate: `19${50 + i}-0${1 + (i % 9)}-1${i}`, address: { postcode: `26${10 + i}` } };
      return [
        { recordId: `a|${i}`, ...rec },
        { recordId: `b|${i}`, ...rec, givenName: `${given}e` },
      ];
    });
    const est = estimateParameters(records, { randomPairs: 2_000, seed: 1 });
    assert.ok(est.candidatePairs > 0);
    assert.equal(est.randomPairs, 2_000);
    assert.ok(est.config.comparisons.birthDate.exact.m > est.config.comparisons.birthDate.exact.u);
    assert.ok(est.config.comparisons.familyName.exact.m > est.config.comparisons.familyName.exact.u);
    assert.deepEqual(est.config.thresholds, DEFAULT_MATCH_CONFIG.thresholds);
  });
});
