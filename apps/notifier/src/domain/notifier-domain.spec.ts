import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { signWebhook, verifyWebhookSignature } from './webhook-signature';
import { CircuitBreaker, MAX_ATTEMPTS, isPermanentFailure, nextAttemptDelayMs } from './delivery-policy';
import { subscriptionMatches, validateSubscriptionRequest } from './subscription';

describe('webhook signatures', () => {
  it('verify with the right secret and fresh timestamp only', () => {
    const now = Date.now();
    const t = Math.floor(now / 1000);
    const header = signWebhook('s3cret-s3cret-s3cret', t, '{"a":1}');
    assert.equal(verifyWebhookSignature('s3cret-s3cret-s3cret', header, '{"a":1}', 300, now), true);
    assert.equal(verifyWebhookSignature('other-secret-value', header, '{"a":1}', 300, now), false);
    assert.equal(verifyWebhookSignature('s3cret-s3cret-s3cret', header, '{"a":2}', 300, now), false, 'body tampering');
    assert.equal(verifyWebhookSignature('s3cret-s3cret-s3cret', header, '{"a":1}', 300, now + 3_600_000), false, 'replayed an hour later');
  });
});

describe('delivery policy', () => {
  it('backs off exponentially with jitter, capped at five minutes', () => {
    assert.equal(nextAttemptDelayMs(1, () => 0), 250);
    assert.equal(nextAttemptDelayMs(1, () => 1), 500);
    assert.equal(nextAttemptDelayMs(3, () => 1), 2000);
    assert.equal(nextAttemptDelayMs(40, () => 1), 300_000);
    assert.ok(MAX_ATTEMPTS >= 5);
  });
  it('treats refusals as permanent but timeouts, throttling and 5xx as retriable', () => {
    assert.equal(isPermanentFailure(400), true);
    assert.equal(isPermanentFailure(410), true);
    assert.equal(isPermanentFailure(408), false);
    assert.equal(isPermanentFailure(429), false);
    assert.equal(isPermanentFailure(503), false);
    assert.equal(isPermanentFailure(null), false);
  });
  it('opens the circuit after repeated failures and lets one probe through later', () => {
    const c = new CircuitBreaker(3, 1000);
    const t0 = 1_000_000;
    for (let i = 0; i < 3; i++) c.failure(t0);
    assert.equal(c.allow(t0 + 10), false);
    assert.equal(c.allow(t0 + 1500), true, 'half-open probe');
    assert.equal(c.allow(t0 + 1500), false, 'only one probe at a time');
    c.success();
    assert.equal(c.allow(t0 + 1600), true);
  });
});

describe('subscriptions', () => {
  it('filter by tier, workflow, message type prefix and audience', () => {
    const e = { tier: 'stat' as const, workflow: 'critical-result-review', messageType: 'ORU^R01', audiences: ['care-team'] };
    assert.equal(subscriptionMatches({}, e), true);
    assert.equal(subscriptionMatches({ tiers: ['stat'], messageTypes: ['ORU^*'] }, e), true);
    assert.equal(subscriptionMatches({ tiers: ['bulk'] }, e), false);
    assert.equal(subscriptionMatches({ workflows: ['discharge-follow-up'] }, e), false);
    assert.equal(subscriptionMatches({ audiences: ['billing'] }, e), false);
  });
  it('validate requests and list every problem', () => {
    assert.throws(() => validateSubscriptionRequest({ url: 'ftp://x', secret: 'short', filter: { tiers: ['now'] } }), (err: Error & { status: number; details: { problems: string[] } }) =>
      err.status === 422 && err.details.problems.length === 3);
    assert.throws(() => validateSubscriptionRequest({ url: 'https://user:pw@example.org/h', secret: 'x'.repeat(20) }), /credentials/);
    const ok = validateSubscriptionRequest({ url: 'https://example.org/hook', secret: 'x'.repeat(20), filter: { tiers: ['stat'] } });
    assert.equal(ok.url, 'https://example.org/hook');
    assert.deepEqual(ok.filter.tiers, ['stat']);
  });
});
