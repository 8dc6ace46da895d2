import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadPolicyConfig } from './policy.config';

describe('policy config', () => {
  it('finds the policy data from the root it runs from and has defaults for every setting', () => {
    const c = loadPolicyConfig(() => undefined, 'a-patient-key-secret', '/srv/clinmesh');
    assert.equal(c.policyDir, '/srv/clinmesh/apps/policy/policy');
    assert.equal(c.breakGlassMaxSeconds, 4 * 3600);
    assert.equal(c.breakGlassTimerMs, 1000);
    assert.equal(c.revocationLookbackMs, 72 * 3_600_000);
    assert.ok(c.pseudonymSecret.length >= 16);
    assert.equal(loadPolicyConfig((n) => (n === 'DIR' ? '/etc/policy' : undefined), 'a-patient-key-secret', '/srv').policyDir, '/etc/policy');
  });

  it('lists every problem at once', () => {
    const env: Record<string, string> = { BREAK_GLASS_MAX_SECONDS: '0', BREAK_GLASS_TIMER_MS: 'often', REVOCATION_LOOKBACK_HOURS: '-1', PSEUDONYM_SECRET: 'short' };
    assert.throws(() => loadPolicyConfig((n) => env[n], 'a-patient-key-secret'), (e: Error) => {
      for (const name of ['POLICY_BREAK_GLASS_MAX_SECONDS', 'POLICY_BREAK_GLASS_TIMER_MS', 'POLICY_REVOCATION_LOOKBACK_HOURS', 'POLICY_PSEUDONYM_SECRET']) assert.ok(e.message.includes(name), name);
      return true;
    });
  });
});
