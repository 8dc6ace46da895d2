import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BulkIntakePacer } from './bulk-intake.pacer';

describe('bulk intake pacing', () => {
  const clock = () => {
    let t = 1_000_000;
    return { now: () => t, advance: (ms: number) => { t += ms; } };
  };

  it('bulk runs unpaced until a stat or urgent message is accepted', () => {
    const c = clock();
    const pacer = new BulkIntakePacer({ share: 0.25, withinMs: 1000, maxPauseMs: 1000, chunkSize: 10 }, c.now);
    assert.equal(pacer.pauseAfter(40), 0);
    pacer.accepted('routine');
    pacer.accepted('bulk');
    pacer.accepted(undefined);
    assert.equal(pacer.pauseAfter(40), 0, 'routine, bulk and rejected messages do not pace');
    pacer.accepted('stat');
    assert.equal(pacer.pauseAfter(40), 120, 'a quarter of the time: three times the group\'s time in pause');
  });

  it('paces for `withinMs` after the last priority message, bounded by the longest pause', () => {
    const c = clock();
    const pacer = new BulkIntakePacer({ share: 0.25, withinMs: 1000, maxPauseMs: 500, chunkSize: 10 }, c.now);
    pacer.accepted('urgent');
    assert.equal(pacer.pauseAfter(400), 500, 'bounded');
    c.advance(1000);
    assert.equal(pacer.pauseAfter(10), 30, 'still within the window');
    c.advance(1);
    assert.equal(pacer.pauseAfter(10), 0, 'the window passed');
  });

  it('a share of 1 turns pacing off', () => {
    const c = clock();
    const pacer = new BulkIntakePacer({ share: 1, withinMs: 1000, maxPauseMs: 1000, chunkSize: 10 }, c.now);
    pacer.accepted('stat');
    assert.equal(pacer.pauseAfter(100), 0);
    assert.equal(pacer.groupSize(16), 16, 'and keeps the whole group');
  });

  it('cuts the next group to the paced size while a priority message is recent', () => {
    const c = clock();
    const pacer = new BulkIntakePacer({ share: 0.25, withinMs: 1000, maxPauseMs: 1000, chunkSize: 4 }, c.now);
    assert.equal(pacer.groupSize(16), 16, 'no priority message yet');
    pacer.accepted('stat');
    assert.equal(pacer.groupSize(16), 4);
    assert.equal(pacer.groupSize(2), 2, 'never larger than asked');
    c.advance(1001);
    assert.equal(pacer.groupSize(16), 16, 'the window passed');
  });
});
