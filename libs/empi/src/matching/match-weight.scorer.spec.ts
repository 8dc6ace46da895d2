import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidMatchConfigError } from '../empi.errors';
import { COMPARISON_NAMES, DEFAULT_MATCH_CONFIG, matchWeight, resolveMatchConfig } from './match-config.model';
import { MatchWeights } from './match-weight.scorer';
import { MISSING } from './record-comparison.comparator';

describe('Fellegi–Sunter weights', () => {
  it('weight is log2(m/u): agreement positive, disagreement negative', () => {
    assert.equal(matchWeight({ m: 0.9, u: 0.9 / 1024 }), 10);
    assert.equal(matchWeight({ m: 0.05, u: 0.2 }), -2);
    for (const name of COMPARISON_NAMES) {
      const levels = DEFAULT_MATCH_CONFIG.comparisons[name] as Record<string, { m: number; u: number }>;
      assert.ok(matchWeight(levels.exact) > 0, `${name}.exact should be evidence for a match`);
      assert.ok(matchWeight(levels.else) < 0, `${name}.else should be evidence against`);
    }
  });

  it('sums field weights; missing fields contribute exactly 0', () => {
    const w = new MatchWeights(DEFAULT_MATCH_CONFIG);
    const vector = new Int8Array(COMPARISON_NAMES.length).fill(MISSING);
    assert.equal(w.score(vector), 0);
    const given = COMPARISON_NAMES.indexOf('givenName');
    const family = COMPARISON_NAMES.indexOf('familyName');
    vector[given] = 0;
    vector[family] = 4; // else
    const expected = matchWeight(DEFAULT_MATCH_CONFIG.comparisons.givenName.exact) + matchWeight(DEFAULT_MATCH_CONFIG.comparisons.familyName.else);
    assert.ok(Math.abs(w.score(vector) - expected) < 1e-12);
    const contributions = w.contributions(vector);
    assert.deepEqual(contributions.find((c) => c.field === 'birthDate'), { field: 'birthDate', level: 'missing', weight: 0 });
    assert.equal(contributions.find((c) => c.field === 'givenName')?.level, 'exact');
  });

  it('a weight cap bounds correlated household evidence (address + phone) both ways: a move is one disagreement, not six', () => {
    const capped = new MatchWeights(DEFAULT_MATCH_CONFIG);
    const free = new MatchWeights({ ...DEFAULT_MATCH_CONFIG, weightCaps: [] });
    const vector = new Int8Array(COMPARISON_NAMES.length).fill(MISSING);
    for (const f of ['streetNumber', 'street', 'suburb', 'postcode', 'state', 'phone']) vector[COMPARISON_NAMES.indexOf(f as never)] = 0;
    assert.ok(free.score(vector) > 30);
    assert.equal(capped.score(vector), 10);
    for (const f of ['streetNumber', 'street', 'suburb', 'postcode']) vector[COMPARISON_NAMES.indexOf(f as never)] = f === 'streetNumber' ? 1 : 2;
    vector[COMPARISON_NAMES.indexOf('phone')] = 2;
    vector[COMPARISON_NAMES.indexOf('state')] = 1;
    assert.ok(free.score(vector) < -20);
    assert.equal(capped.score(vector), -5);
  });

  it('config: partial overrides merge with defaults, invalid probabilities are rejected', () => {
    const c = resolveMatchConfig({ thresholds: { upper: 20, lower: 10 } });
    assert.equal(c.thresholds.upper, 20);
    assert.equal(c.comparisons.sex.exact.m, DEFAULT_MATCH_CONFIG.comparisons.sex.exact.m);
    const bad = { ...DEFAULT_MATCH_CONFIG.comparisons, sex: { exact: { m: 0, u: 0.5 }, else: { m: 1, u: 0.5 } } };
    assert.throws(() => resolveMatchConfig({ comparisons: bad }), InvalidMatchConfigError);
    assert.throws(() => resolveMatchConfig({ thresholds: { upper: 1, lower: 2 } }), InvalidMatchConfigError);
  });
});
