import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RoutingPolicy, decideRouting } from './routing-policy';

const policy: RoutingPolicy = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', '..', '..', 'apps', 'policy', 'src', 'domain', 'routing-policy.data.json'), 'utf8'));

describe('routing policy', () => {
  it('routes a stat result to critical-result review and explains why', () => {
    const d = decideRouting(policy, { messageType: 'ORU^R01', resourceType: 'Observation', tier: 'stat' });
    assert.deepEqual(d.workflows, ['critical-result-review']);
    assert.deepEqual(d.ruleIds, ['critical-result-review']);
    assert.ok(d.audiences.includes('care-team'));
    assert.equal(d.policyVersion, policy.version);
    assert.match(d.explanation, /critical-result-review/);
  });
  it('falls back to the default workflow and says so', () => {
    const d = decideRouting(policy, { messageType: 'MFN^M02', resourceType: 'Message', tier: 'routine' });
    assert.deepEqual(d.workflows, [policy.defaultWorkflow]);
    assert.deepEqual(d.ruleIds, ['default-workflow']);
  });
  it('escalates but never lowers a tier', () => {
    const p: RoutingPolicy = { ...policy, rules: [
      { id: 'raise', description: 'raise discharges', when: { messageTypes: ['ADT^A03'] }, then: { escalateTo: 'urgent' } },
      { id: 'lower', description: 'tries to lower', when: { messageTypes: ['ADT^A03'] }, then: { escalateTo: 'bulk' } },
    ] };
    const raised = decideRouting(p, { messageType: 'ADT^A03', resourceType: 'Encounter', tier: 'routine' });
    assert.equal(raised.tier, 'urgent');
    assert.equal(raised.originalTier, 'routine');
    const stat = decideRouting(p, { messageType: 'ADT^A03', resourceType: 'Encounter', tier: 'stat' });
    assert.equal(stat.tier, 'stat');
  });
  it('matches trigger wildcards', () => {
    assert.deepEqual(decideRouting(policy, { messageType: 'REF^I12', resourceType: 'ServiceRequest', tier: 'urgent' }).workflows, ['referral-intake']);
  });
});
