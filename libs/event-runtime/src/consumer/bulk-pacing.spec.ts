import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BulkRest, DEFAULT_BULK_PACING, bulkPauseMs, pacedChunkSize } from './bulk-pacing';

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

  it('rests the service\'s bulk work as a whole: a rest set by one piece holds every other until it ends', () => {
    let now = 1000;
    const rest = new BulkRest(() => now);
    assert.equal(rest.remainingMs(), 0, 'no rest before any bulk work');
    rest.begin();
    assert.equal(rest.remainingMs(), 50, 'the first piece holds the others for a first guess');
    now += 10;
    rest.rest(10, 90);
    now += 30;
    assert.equal(rest.remainingMs(), 60, 'the rest after it replaces the guess');
    rest.rest(2, 20);
    assert.equal(rest.remainingMs(), 60, 'a shorter rest does not cut a longer one');
    rest.rest(10, 100);
    assert.equal(rest.remainingMs(), 100, 'a longer rest extends it');
    now += 100;
    assert.equal(rest.remainingMs(), 0);
    rest.begin();
    assert.equal(rest.remainingMs(), 110, 'a piece running holds the others for the last piece\'s work and rest');
  });
});
