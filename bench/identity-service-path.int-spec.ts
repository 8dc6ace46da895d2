import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateUsRegistrations, pairwiseAccuracy } from '@clinmesh/empi';
import { createTestDatabase, testEnvironment, uniqueName } from '@clinmesh/testing';
import { openServicePath } from './identity-service-path';

/**
 * The identity bench's service path (`--store service`) on the test platform's PostgreSQL: US-style
 * registrations as ingested FHIR Patients through the identity service's own consumer definition,
 * decisions read back from what it published. Guards the bench's figures (every record counted, the
 * service's decisions, not a copy's) and the service path's accuracy with FHIR input.
 */
describe('identity bench: the service consumer path end to end', { timeout: 180_000 }, () => {
  const env = testEnvironment();

  it('every record gets the EPID the service published; no household false merge; precision floor; a redelivered chunk changes nothing', async () => {
    const rows = generateUsRegistrations({ seed: 61, persons: 250 });
    const path = await openServicePath(() => createTestDatabase(env, uniqueName('id-svc-path').slice(0, 63)), 50, () => undefined);
    try {
      const messages = await path.encode(rows.map((r) => r.record));
      for (let i = 0; i < messages.length; i += 50) await path.processChunk(messages.slice(i, i + 50));
      const ids = rows.map((r) => r.record.recordId);
      const outcomes = await path.outcomes(ids);
      assert.equal(outcomes.size, rows.length, 'one identified event per record');

      const predicted = new Map([...outcomes].map(([id, o]) => [id, o.epid]));
      const accuracy = pairwiseAccuracy(new Map(rows.map((r) => [r.record.recordId, r.entity])), predicted);
      assert.ok(accuracy.truePairs > 50, `the set has duplicates to find (${accuracy.truePairs} true pairs)`);
      assert.ok(accuracy.precision >= 0.995, `precision ${accuracy.precision}`);
      assert.ok(accuracy.f1 >= 0.95, `F1 ${accuracy.f1}`);
      const reviews = [...outcomes.values()].filter((o) => o.review).length;
      assert.ok(reviews / rows.length <= 0.02, `review rate ${reviews}/${rows.length}`);
      for (const a of rows) {
        for (const b of rows) {
          if (a.householdId === b.householdId && a.entity < b.entity) {
            assert.notEqual(predicted.get(a.record.recordId), predicted.get(b.record.recordId), `${a.recId} (${a.role}) and ${b.recId} (${b.role}) of one household merged`);
          }
        }
      }

      // Kafka redelivers a chunk after a crash before the offset commit: the inbox makes it a no-op. The first
      // redelivery is handled before the check (the runtime's optimistic inbox), meets the inbox and is rolled
      // back; the definition then checks first for a while, so the next one is only checked, not matched again.
      await path.processChunk(messages.slice(0, 50));
      assert.deepEqual(await path.outcomes(ids), outcomes);
      const statements = path.statements();
      await path.processChunk(messages.slice(0, 50));
      assert.deepEqual(await path.outcomes(ids), outcomes);
      assert.ok(path.statements() - statements <= 6, 'a redelivered chunk after a duplicate is only checked against the inbox, not matched again');
    } finally {
      await path.close();
    }
  });
});
