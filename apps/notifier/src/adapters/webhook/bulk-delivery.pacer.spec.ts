import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_BULK_PACING } from '@clinmesh/event-runtime';
import { BulkDeliveryPacer } from './bulk-delivery.pacer';

function clock(start = 10_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
}

describe('BulkDeliveryPacer', () => {
  const pacing = { ...DEFAULT_BULK_PACING, share: 0.25, withinMs: 1000, maxPauseMs: 1000, chunkSize: 3 };

  it('leaves bulk unbounded while no stat or urgent work is about', () => {
    const c = clock();
    const p = new BulkDeliveryPacer(pacing, () => false, c.now);
    assert.equal(p.bulkAllowance(), Number.POSITIVE_INFINITY);
    assert.equal(p.claimed(['bulk', 'bulk', 'routine']), 2);
    p.bulkFinished();
    p.bulkFinished();
    assert.equal(p.holdRemainingMs(), 0, 'no hold when not paced');
    assert.equal(p.bulkAllowance(), Number.POSITIVE_INFINITY);
  });

  it('after a stat delivery: bulk in rounds of the paced size, then held for its share', () => {
    const c = clock();
    const p = new BulkDeliveryPacer(pacing, () => false, c.now);
    p.claimed(['stat']);
    assert.equal(p.bulkAllowance(), 3, 'one round');
    p.claimed(['bulk', 'bulk']);
    assert.equal(p.bulkAllowance(), 0, 'no second round while one is in flight');
    c.advance(40);
    p.bulkFinished();
    assert.equal(p.bulkAllowance(), 0, 'the round is still open');
    p.bulkFinished();
    assert.equal(p.holdRemainingMs(), 120, 'three times the round\'s 40 ms at a quarter share');
    assert.equal(p.bulkAllowance(), 0);
    c.advance(120);
    assert.equal(p.bulkAllowance(), 3, 'the hold is over');
  });

  it('follows the consumers\' stat/urgent backlog too, and stops pacing when the window passes', () => {
    const c = clock();
    let consumersBusy = true;
    const p = new BulkDeliveryPacer(pacing, () => consumersBusy, c.now);
    assert.equal(p.bulkAllowance(), 3);
    consumersBusy = false;
    assert.equal(p.bulkAllowance(), Number.POSITIVE_INFINITY);
    p.claimed(['urgent']);
    c.advance(1001);
    assert.equal(p.bulkAllowance(), Number.POSITIVE_INFINITY, 'the urgent delivery is older than the window');
  });

  it('a share of 1 turns it off', () => {
    const p = new BulkDeliveryPacer({ ...pacing, share: 1 }, () => true);
    p.claimed(['stat']);
    assert.equal(p.bulkAllowance(), Number.POSITIVE_INFINITY);
  });
});
