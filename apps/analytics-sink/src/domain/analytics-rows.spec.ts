import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ANALYTICS_COLUMNS, ANALYTICS_TABLES, analyticsRowsOf } from './analytics-rows';
import { epidChangeOf } from './identity-change';
import { glucose, identityEvent, observationRecord, withRecords } from '../testing/canonical-event.builders';

describe('analytics rows', () => {
  const at = Date.UTC(2024, 2, 1, 15, 30);

  it('an observation row carries the LOINC code, the value, the UCUM unit and the UTC time', () => {
    const [row] = analyticsRowsOf(withRecords({ observations: [glucose('obs-1', 182, at, { interpretation: [{ system: null, code: 'HH', display: null, mapping: 'STANDARD', unmapped: false, unmappedReason: null, originalSystem: null, originalCode: null }] })] }));
    assert.equal(row.table, 'observations');
    assert.equal(row.canonicalId, 'obs-1');
    assert.equal(row.columns.loinc_code, '2345-7');
    assert.equal(row.columns.value_num, 182);
    assert.equal(row.columns.unit, 'mg/dl');
    assert.equal(row.columns.ucum_unit, 'mg/dL');
    assert.equal(row.columns.effective_at, '2024-03-01T15:30:00.000Z');
    assert.deepEqual(row.columns.interpretation, ['HH']);
  });

  it('a local code without a LOINC mapping keeps its code and no loinc_code; a date-only time has no instant', () => {
    const [row] = analyticsRowsOf(withRecords({ observations: [observationRecord({
      id: 'obs-2',
      code: { codings: [{ system: 'LOCAL', code: 'ZZGLU', display: 'Glucose', mapping: 'UNMAPPED', unmapped: true, unmappedReason: 'NO_MAP_ENTRY', originalSystem: null, originalCode: null }], text: null },
      effective: { instant: null, original: '20240301', offset: null, precision: 'DAY', offsetSource: 'NONE', date: '2024-03-01' },
    })] }));
    assert.equal(row.columns.loinc_code, null);
    assert.equal(row.columns.code, 'ZZGLU');
    assert.equal(row.columns.effective_at, null);
    assert.equal(row.columns.effective_original, '20240301');
  });

  it('every row has exactly its table\'s columns', () => {
    const rows = analyticsRowsOf(withRecords({ observations: [glucose('o', 1, at)] }));
    for (const row of rows) assert.deepEqual(Object.keys(row.columns).sort(), [...ANALYTICS_COLUMNS[row.table]].sort());
    assert.equal(ANALYTICS_TABLES.length, 8);
  });

  it('an event without records has no rows', () => {
    assert.deepEqual(analyticsRowsOf({ ...withRecords({}), records: undefined }), []);
  });

  it('merges and unmerges change EPIDs; links and reviews do not', () => {
    assert.deepEqual(epidChangeOf(identityEvent()), { kind: 'merge', surviving: 'EPID-SURVIVOR', merged: 'EPID-MERGED', eventId: 'idn-1', at: Date.UTC(2024, 2, 2) });
    assert.equal(epidChangeOf(identityEvent({ type: 'PERSONS_UNMERGED' }))?.kind, 'unmerge');
    assert.equal(epidChangeOf(identityEvent({ type: 'RECORD_LINKED' })), null);
    assert.equal(epidChangeOf(identityEvent({ otherEpid: null })), null);
  });
});
