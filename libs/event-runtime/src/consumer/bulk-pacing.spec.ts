import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_BULK_PACING, bulkPauseMs, pacedChunkSize } from './bulk-pacing';

describe('bulk pacing', () => {
  it('cuts a bulk piece to the paced size, never above what was asked or below one', () => {
    const pacing = { ...DEFAULT_BULK_PACING, chunkSize: 10 };
    assert.equal(pacedChunkSize(200, pacing), 10);
    assert.equal(pacedChunkSize(4, pacing), 4);
    assert.equal(pacedChunkSize(200, { ...pacing, chunkSize: 0 }), 1);
  });

  it('a share of 1 turns it off: pieces keep their size and never pause', () => {
    const off = { ...DEFAULT_BULK_PACING, share: 1 };
    assert.equal(pacedChunkSize(200, off), 200);
    assert.equal(bulkPauseMs(100, off), 0);
  });

  it('pauses so bulk takes its share of the time, bounded by the longest pause', () => {
    assert.equal(bulkPauseMs(40, { ...DEFAULT_BULK_PACING, share: 0.25 }), 120);
    assert.equal(bulkPauseMs(40, { ...DEFAULT_BULK_PACING, share: 0.5 }), 40);
    assert.equal(bulkPauseMs(4000, { ...DEFAULT_BULK_PACING, share: 0.25, maxPauseMs: 1000 }), 1000);
  });
});
