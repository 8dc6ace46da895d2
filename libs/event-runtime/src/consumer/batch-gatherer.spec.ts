import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KafkaMessage } from 'kafkajs';
import { GatheredBatches, shouldGather } from './batch-gatherer';

const msg = (offset: number) => ({ offset: String(offset) }) as KafkaMessage;
const base = { buffered: 10, caughtUp: false, ageMs: 5, chunkSize: 200, gatherMs: 100 };

describe('shouldGather', () => {
  it('gathers only while there is more to fetch, the chunk is not full and the window is open', () => {
    assert.equal(shouldGather(base), true);
    assert.equal(shouldGather({ ...base, caughtUp: true }), false, 'caught up: process now (an idle event is never held)');
    assert.equal(shouldGather({ ...base, buffered: 200 }), false, 'a full chunk');
    assert.equal(shouldGather({ ...base, ageMs: 100 }), false, 'the window has passed');
    assert.equal(shouldGather({ ...base, gatherMs: 0 }), false, 'off');
  });
});

describe('GatheredBatches', () => {
  it('holds per partition, continues after the last held offset, and hands everything back in order', () => {
    let now = 1000;
    const g = new GatheredBatches(() => assert.fail('no expiry'), () => now);
    assert.equal(g.nextOffset('t:0'), undefined);
    const first = g.take('t:0', [msg(5), msg(6)]);
    assert.deepEqual(first, { messages: [msg(5), msg(6)], since: 1000, resolvedAhead: false });
    g.hold('t:0', first.messages, first.since, 60000);
    assert.equal(g.nextOffset('t:0'), 7);
    assert.equal(g.nextOffset('t:1'), undefined, 'partitions are independent');
    now = 1040;
    const second = g.take('t:0', [msg(7)]);
    assert.deepEqual(second.messages.map((m) => m.offset), ['5', '6', '7']);
    assert.equal(second.since, 1000, 'the window counts from the first held message');
    assert.equal(second.resolvedAhead, true);
    assert.equal(g.has('t:0'), false, 'taken');
    g.hold('t:0', second.messages, second.since, 60000);
    g.clear();
    assert.equal(g.size, 0);
  });

  it('expires a hold no fetch continued, so its owner can fetch it again', async () => {
    const expired: string[] = [];
    const g = new GatheredBatches((key) => expired.push(key));
    g.hold('t:0', [msg(1)], Date.now(), 5);
    g.hold('t:1', [msg(1)], Date.now(), 5);
    g.drop('t:1');
    await new Promise<void>((resolve) => { const t = setInterval(() => { if (expired.length) { clearInterval(t); resolve(); } }, 2); });
    assert.deepEqual(expired, ['t:0'], 'a dropped hold never expires');
    assert.equal(g.has('t:0'), false);
  });
});
