import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { relaySettings } from './run-service';

describe('relaySettings (runtime tuning from CLINMESH_* variables)', () => {
  it('reads per-tier fetch waits and gather windows, and the group-commit bound', () => {
    const s = relaySettings({ CLINMESH_FETCH_MAX_WAIT_MS: 'stat=20,bulk=500', CLINMESH_CONSUMER_GATHER_MS: 'routine=0, urgent=30', CLINMESH_CONSUMER_COMBINE_RECORDS: '0' });
    assert.deepEqual(s.maxWaitTimeMs, { stat: 20, bulk: 500 });
    assert.deepEqual(s.gatherMs, { routine: 0, urgent: 30 });
    assert.equal(s.combineRecords, 0, '0 turns group commit off');
    assert.equal(relaySettings({ CLINMESH_CONSUMER_BULK_SHARE: '0.5' }).bulkShare, 0.5);
    assert.equal(relaySettings({ CLINMESH_CONSUMER_BULK_SHARE: '1' }).bulkShare, 1, '1 turns bulk pacing off');
    assert.equal(relaySettings({ CLINMESH_CONSUMER_BULK_PACED_CHUNK_SIZE: '5' }).bulkPacedChunkSize, 5);
    assert.equal(relaySettings({ CLINMESH_OUTBOX_VACUUM_EVERY_ROWS: '500' }).vacuumEveryRows, 500);
    assert.equal(relaySettings({ CLINMESH_OUTBOX_VACUUM_EVERY_ROWS: '0' }).vacuumEveryRows, 0, '0 leaves the outbox to autovacuum');
  });

  it('leaves unset settings to the runtime defaults', () => {
    const s = relaySettings({});
    assert.equal(s.gatherMs, undefined);
    assert.equal(s.combineRecords, undefined);
    assert.equal(s.vacuumEveryRows, undefined);
  });

  it('names every invalid setting at once', () => {
    assert.throws(() => relaySettings({ CLINMESH_CONSUMER_GATHER_MS: 'fast=10', CLINMESH_CONSUMER_COMBINE_RECORDS: '-1' }),
      (e: Error) => /CLINMESH_CONSUMER_GATHER_MS: "fast=10"/.test(e.message) && /CLINMESH_CONSUMER_COMBINE_RECORDS must be a non-negative integer/.test(e.message));
    assert.throws(() => relaySettings({ CLINMESH_CONSUMER_BULK_SHARE: '0' }), /CLINMESH_CONSUMER_BULK_SHARE must be above 0 and at most 1/);
    assert.throws(() => relaySettings({ CLINMESH_CONSUMER_BULK_SHARE: '1.5' }), /CLINMESH_CONSUMER_BULK_SHARE must be above 0 and at most 1/);
    assert.throws(() => relaySettings({ CLINMESH_CONSUMER_BULK_PACED_CHUNK_SIZE: '0' }), /CLINMESH_CONSUMER_BULK_PACED_CHUNK_SIZE must be at least 1/);
    assert.throws(() => relaySettings({ CLINMESH_CONSUMER_BULK_PACED_CHUNK_SIZE: '2.5' }), /CLINMESH_CONSUMER_BULK_PACED_CHUNK_SIZE must be a non-negative integer/);
    assert.throws(() => relaySettings({ CLINMESH_OUTBOX_VACUUM_EVERY_ROWS: 'often' }), /CLINMESH_OUTBOX_VACUUM_EVERY_ROWS must be a non-negative integer/);
  });
});
