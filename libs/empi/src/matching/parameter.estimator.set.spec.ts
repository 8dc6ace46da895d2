import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_MATCH_CONFIG, matchWeight } from './match-config.model';
import {
  assessParameterSet, chooseParameterSet, estimateParameterSet, insufficientData, parameterSetConfig, type LevelEstimate,
} from './parameter.estimator.set';
import { generateUsRegistrations } from '../synthetic/us-registration.generator';

const level = (over: Partial<LevelEstimate>): LevelEstimate => ({
  comparison: 'birthDate', level: 'exact', m: 0.9, u: 0.001, weight: 9.8, defaultWeight: 10, mFrom: 'em', uFrom: 'random-pairs',
  trainingObservations: 500, randomObservations: 100, ...over,
});

describe('parameter sets estimated by EM per source', () => {
  it('estimates a safe set from generated US registrations: u from random pairs, m per training rule, unseen levels keep the default', () => {
    const records = generateUsRegistrations({ seed: 61, persons: 500 }).map((r) => r.record);
    const est = estimateParameterSet(records, { randomPairs: 30_000, seed: 3 });
    assert.equal(est.records, records.length);
    assert.equal(est.randomPairs, 30_000);
    assert.deepEqual(est.sessions.map((s) => s.rule).sort(), ['same-birth-date-and-family-name', 'same-given-name-and-postcode', 'same-national-id']);
    assert.ok(est.converged);
    assert.deepEqual(insufficientData(est), []);
    assert.deepEqual(assessParameterSet(est), [], 'no level flips sign against the default');
    const of = (c: string, l: string) => est.levels.find((x) => x.comparison === c && x.level === l)!;
    assert.equal(of('birthDate', 'exact').mFrom, 'em');
    assert.ok(of('birthDate', 'exact').weight > 5);
    assert.ok(of('givenName', 'else').weight < -1);
    // A level the data (almost) never shows among training pairs keeps the default m and u.
    const unseen = est.levels.filter((l) => l.mFrom === 'default');
    assert.ok(unseen.length > 0);
    for (const l of unseen) {
      const def = (DEFAULT_MATCH_CONFIG.comparisons as unknown as Record<string, Record<string, { m: number; u: number }>>)[l.comparison][l.level];
      assert.deepEqual([l.m, l.u, l.uFrom], [def.m, def.u, 'default'], `${l.comparison}.${l.level}`);
      assert.ok(l.trainingObservations < 20);
    }
    // The one estimate everything else relies on: same input, same seed, same numbers.
    assert.deepEqual(estimateParameterSet(records, { randomPairs: 30_000, seed: 3 }).comparisons, est.comparisons);
  });

  it('says why too few records are not enough for an estimate', () => {
    const records = generateUsRegistrations({ seed: 5, persons: 12 }).map((r) => r.record);
    const reasons = insufficientData(estimateParameterSet(records, { randomPairs: 1_000 }));
    assert.ok(reasons.some((r) => /records; at least 200/.test(r)), reasons.join('; '));
    assert.ok(reasons.some((r) => /no training rule/.test(r)), reasons.join('; '));
  });

  it('refuses a level whose weight flips sign against the default and a session that did not converge, naming them', () => {
    const findings = assessParameterSet({
      levels: [
        level({}),
        level({ comparison: 'givenName', level: 'phonetic', weight: -0.9, defaultWeight: 1.47 }),
        level({ comparison: 'nationalId', level: 'else', weight: 0.3, defaultWeight: -4.4 }),
        level({ comparison: 'line2', level: 'jw>=0.88', weight: -3, defaultWeight: 8.4, mFrom: 'default' }), // the default kept: not an estimate
        level({ comparison: 'sex', level: 'exact', weight: -0.1, defaultWeight: 0.1 }), // neutral in the default
      ],
      sessions: [{ rule: 'same-national-id', pairs: 100, lambda: 0.99, iterations: 100, converged: false }],
    });
    assert.deepEqual(findings.map((f) => [f.problem, f.comparison, f.level]), [
      ['not-converged', null, null], ['weight-sign-flipped', 'givenName', 'phonetic'], ['weight-sign-flipped', 'nationalId', 'else'],
    ]);
    assert.match(findings[1].message, /givenName\.phonetic: estimated weight -0\.9 where the default is 1\.47/);
  });

  it('chooses the source’s active set, else the all-sources set, else none (the default)', () => {
    const active = [{ version: 'all-1', sourceSystem: null }, { version: 'lab-1', sourceSystem: 'LAB' }];
    assert.equal(chooseParameterSet(active, 'LAB')?.version, 'lab-1');
    assert.equal(chooseParameterSet(active, 'HOSP')?.version, 'all-1');
    assert.equal(chooseParameterSet(active, undefined)?.version, 'all-1');
    assert.equal(chooseParameterSet([active[1]], 'HOSP'), undefined);
    assert.equal(chooseParameterSet([], 'LAB'), undefined);
  });

  it('scores with the set’s m/u and version, keeping thresholds, rules and caps of the base config', () => {
    const base = { ...DEFAULT_MATCH_CONFIG, thresholds: { upper: 14, lower: 5 } };
    const comparisons = { ...DEFAULT_MATCH_CONFIG.comparisons, birthDate: { ...DEFAULT_MATCH_CONFIG.comparisons.birthDate, exact: { m: 0.95, u: 0.0005 } } };
    const config = parameterSetConfig(base, { version: 'em-LAB-1', comparisons });
    assert.equal(config.version, 'em-LAB-1');
    assert.deepEqual(config.thresholds, { upper: 14, lower: 5 });
    assert.deepEqual(config.householdRules, base.householdRules);
    assert.deepEqual(config.weightCaps, base.weightCaps);
    assert.equal(matchWeight(config.comparisons.birthDate.exact), Math.log2(0.95 / 0.0005));
    assert.deepEqual(config.comparisons.givenName, DEFAULT_MATCH_CONFIG.comparisons.givenName);
  });
});
