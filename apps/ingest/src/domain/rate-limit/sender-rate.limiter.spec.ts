import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SenderRateLimiter, parseRateLimits } from './sender-rate.limiter';

describe('sender rate limiter (token bucket)', () => {
  test('admits a burst, then the sustained rate, per sender', () => {
    let now = 0;
    const { limits } = parseRateLimits({ perSecond: '10', burst: '3' });
    const limiter = new SenderRateLimiter(limits, () => now);
    assert.deepEqual([1, 2, 3].map(() => limiter.take('EHR^H').allowed), [true, true, true]);
    const refused = limiter.take('EHR^H');
    assert.equal(refused.allowed, false);
    assert.ok(!refused.allowed && refused.retryAfterMs === 100 && refused.limit.ratePerSecond === 10);
    assert.equal(limiter.take('LAB^H').allowed, true, 'senders have their own buckets');
    now = 100;
    assert.equal(limiter.take('EHR^H').allowed, true, 'one token refilled after 1/rate s');
    assert.equal(limiter.take('EHR^H').allowed, false);
    now = 10_000;
    assert.deepEqual([1, 2, 3, 4].map(() => limiter.take('EHR^H').allowed), [true, true, true, false], 'refill stops at the burst');
  });

  test('overrides by full sender or by application; rate 0 exempts; no default means unlimited', () => {
    const { limits, problems } = parseRateLimits({ overrides: 'LAB=1:1, EHR^NORTH=2, VIP=0' });
    assert.deepEqual(problems, []);
    const limiter = new SenderRateLimiter(limits, () => 0);
    assert.deepEqual(limiter.limitFor('EHR^NORTH'), { ratePerSecond: 2, burst: 4 });
    assert.equal(limiter.limitFor('EHR^SOUTH'), undefined);
    assert.deepEqual([limiter.take('LAB^ANY').allowed, limiter.take('LAB^ANY').allowed], [true, false]);
    for (let i = 0; i < 100; i++) assert.equal(limiter.take('VIP^X').allowed, true);
    for (let i = 0; i < 100; i++) assert.equal(limiter.take('OTHER^X').allowed, true);
  });

  test('reports every configuration problem at once', () => {
    const { problems } = parseRateLimits({ perSecond: 'fast', burst: '-1', overrides: 'LAB, EHR=x' });
    assert.equal(problems.length, 4, problems.join('\n'));
  });
});
