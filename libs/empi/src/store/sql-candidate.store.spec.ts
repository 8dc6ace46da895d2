import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { advisoryKey, blockingKeyHash, CandidateRecordCache } from './sql-candidate.store';
import type { PersonRecord } from '../record/person-record.model';

describe('CandidateRecordCache', () => {
  const rec = (id: string): PersonRecord => ({ recordId: id, givenName: id });

  it('returns the held object only at the version it was read at', () => {
    const cache = new CandidateRecordCache(10);
    const a = rec('a');
    cache.set('a', '100', a);
    assert.equal(cache.get('a', '100'), a);
    assert.equal(cache.versionOf('a'), '100');
    assert.equal(cache.get('a', '101'), undefined, 'a newer stored version is never answered from memory');
    assert.equal(cache.get('b', '100'), undefined);
    const a2 = rec('a');
    cache.set('a', '101', a2);
    assert.equal(cache.get('a', '101'), a2);
    assert.equal(cache.size, 1);
  });

  it('is bounded and drops the least recently used record first', () => {
    const cache = new CandidateRecordCache(2);
    cache.set('a', '1', rec('a'));
    cache.set('b', '1', rec('b'));
    assert.ok(cache.get('a', '1'), 'a used: b is now the least recently used');
    cache.set('c', '1', rec('c'));
    assert.equal(cache.size, 2);
    assert.equal(cache.versionOf('b'), undefined);
    assert.ok(cache.get('a', '1'));
    assert.ok(cache.get('c', '1'));
  });
});

describe('blockingKeyHash', () => {
  it('is the advisory lock key of the blocking key (one value for lock and index), as decimal text for a bigint parameter', () => {
    for (const key of ['d:19700101', 'fy:SM0|1970', 'r:lab|hosp-a|123']) assert.equal(blockingKeyHash(key), String(advisoryKey(key)));
    // The value EMPI_PG_MIGRATION_V3 computes in SQL for the same key (checked against PostgreSQL 15).
    assert.equal(blockingKeyHash('d:19700101'), '-518137006288492951');
  });

  it('equals advisoryKey over many keys, both signs, non-ASCII included (it is computed from a hex digest)', () => {
    let negative = 0;
    for (let i = 0; i < 3000; i++) {
      const key = `k:${i}|${(i * 7919).toString(36)}${i % 50 === 0 ? '|é' : ''}`;
      const expected = String(advisoryKey(key));
      if (expected.startsWith('-')) negative++;
      assert.equal(blockingKeyHash(key), expected, key);
    }
    assert.ok(negative > 1000 && negative < 2000, `both signs covered (${negative} negative)`);
  });
});
