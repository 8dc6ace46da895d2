import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TierGovernor } from './tier-governor';

describe('tier governor', () => {
  it('makes routine and bulk yield while stat or urgent has backlog', () => {
    const g = new TierGovernor();
    assert.equal(g.mustYield('bulk'), false);
    g.report('stat', 't:0', 3);
    assert.equal(g.mustYield('bulk'), true);
    assert.equal(g.mustYield('routine'), true);
    assert.equal(g.mustYield('urgent'), false, 'urgent does not yield');
    assert.equal(g.mustYield('stat'), false);
    g.report('stat', 't:0', 0);
    g.report('urgent', 'u:1', 5);
    assert.equal(g.mustYield('bulk'), true);
    g.report('urgent', 'u:1', 0);
    assert.equal(g.mustYield('bulk'), false);
  });
  it('never makes a tier yield to a lower one', () => {
    const g = new TierGovernor();
    g.report('bulk', 'b:0', 10_000);
    g.report('routine', 'r:0', 10_000);
    assert.equal(g.mustYield('routine'), false);
    assert.equal(g.mustYield('bulk'), false);
  });
  it('sums backlog over partitions and tells paused tiers when the higher backlog clears', () => {
    const g = new TierGovernor();
    let cleared = 0;
    g.onClear(() => cleared++);
    g.report('stat', 'a:0', 2);
    g.report('stat', 'a:1', 3);
    assert.equal(g.backlog('stat'), 5);
    g.report('stat', 'a:0', 0);
    assert.equal(cleared, 0);
    g.forget('stat', 'a:1');
    assert.equal(cleared, 1);
    assert.equal(g.backlog('stat'), 0);
  });
  it('treats negative lag as none', () => {
    const g = new TierGovernor();
    g.report('stat', 'a:0', -4);
    assert.equal(g.mustYield('bulk'), false);
    assert.equal(g.activeAbove('bulk', 1000), false, 'no backlog is no activity');
  });
  it('remembers that stat or urgent had backlog for the pacing window, after the backlog cleared', () => {
    const g = new TierGovernor();
    assert.equal(g.activeAbove('bulk', 1000, 5_000), false);
    g.report('stat', 'a:0', 1, 10_000);
    g.report('stat', 'a:0', 0, 10_050);
    assert.equal(g.mustYield('bulk'), false, 'the backlog itself cleared');
    assert.equal(g.activeAbove('bulk', 1000, 10_900), true, 'within the window bulk still paces');
    assert.equal(g.activeAbove('bulk', 1000, 11_001), false, 'after it, full speed again');
    assert.equal(g.activeAbove('stat', 1000, 10_500), false, 'nothing is above stat');
    g.report('routine', 'r:0', 50, 20_000);
    assert.equal(g.activeAbove('bulk', 1000, 20_001), false, 'routine backlog does not pace bulk');
    g.report('urgent', 'u:0', 3, 30_000);
    assert.equal(g.activeAbove('bulk', 1000, 30_500), true, 'urgent does');
  });
});
