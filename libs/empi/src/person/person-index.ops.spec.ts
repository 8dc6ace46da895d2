import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PersonIndexError } from '../empi.errors';
import { buildPersonIndex, mergePersons, personOfRecord, unmergeRecords } from './person-index.ops';

describe('merge / unmerge primitives', () => {
  const index = buildPersonIndex([
    { recordId: 'r1', personId: 'P1' }, { recordId: 'r2', personId: 'P1' }, { recordId: 'r3', personId: 'P2' },
  ]);

  it('merge moves every record of the retired person to the survivor, without mutating the input', () => {
    const { index: merged, moved } = mergePersons(index, 'P1', 'P2');
    assert.deepEqual(moved, ['r3']);
    assert.deepEqual(merged.get('P1'), ['r1', 'r2', 'r3']);
    assert.equal(merged.has('P2'), false);
    assert.deepEqual(index.get('P2'), ['r3']);
    assert.equal(personOfRecord(merged, 'r3'), 'P1');
  });

  it('unmerge undoes a merge', () => {
    const { index: merged } = mergePersons(index, 'P1', 'P2');
    const { index: split, moved } = unmergeRecords(merged, 'P1', ['r3'], 'P2');
    assert.deepEqual(moved, ['r3']);
    assert.deepEqual(Object.fromEntries(split), Object.fromEntries(index));
  });

  it('unmerging every record removes the emptied person', () => {
    const { index: split } = unmergeRecords(index, 'P2', ['r3'], 'P9');
    assert.equal(split.has('P2'), false);
    assert.deepEqual(split.get('P9'), ['r3']);
  });

  it('rejects unknown persons, foreign records and self-merges', () => {
    assert.throws(() => mergePersons(index, 'P1', 'P404'), (e: unknown) => e instanceof PersonIndexError && e.code === 'EMPI.PERSON.NOT_FOUND');
    assert.throws(() => mergePersons(index, 'P1', 'P1'), (e: unknown) => e instanceof PersonIndexError && e.code === 'EMPI.PERSON.SAME');
    assert.throws(() => unmergeRecords(index, 'P1', ['r3'], 'P5'), (e: unknown) => e instanceof PersonIndexError && e.code === 'EMPI.RECORD.NOT_IN_PERSON');
  });
});
