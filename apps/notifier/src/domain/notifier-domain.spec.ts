import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { generateSecret, secretProblems, signatureHeader, verifySignature } from './webhook-signature';
import { DEFAULT_RETRY_SCHEDULE_MS, judgeAttempt, parseRetryAfter, parseRetrySchedule, retryDelayMs } from './retry-schedule';
import { afterFailure, afterSuccess } from './circuit-breaker';
import { allowlisted, checkEndpointUrl, classifyAddress, judgeAddresses, parseAllowlist } from './address-guard';
import { MatchableEvent, OPERATIONS_AUDIENCE, subscriptionMatches, validateSubscriptionRequest } from './subscription';
import { focusResource } from './fhir/focus-resource';
import { notificationBundle, readFhirSubscription } from './fhir/notification-bundle';
import { SUBSCRIPTION_TOPICS } from './fhir/subscription-topics';

describe('Standard Webhooks signatures', () => {
  it('verify with the standardwebhooks package, for whsec_ and raw secrets, and carry both keys during a rotation', () => {
    const oldSecret = generateSecret();
    const newSecret = generateSecret();
    assert.match(oldSecret, /^whsec_[A-Za-z0-9+/]+=*$/);
    const body = '{"type":"task.created","timestamp":"2026-11-28T00:00:00.000Z","data":{}}';
    const ts = Math.floor(Date.now() / 1000);
    const header = signatureHeader([newSecret, oldSecret], 'msg_1', ts, body);
    assert.equal(header.split(' ').length, 2);
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(ts), 'webhook-signature': header };
    assert.deepEqual(new Webhook(oldSecret).verify(body, headers), JSON.parse(body));
    assert.deepEqual(new Webhook(newSecret).verify(body, headers), JSON.parse(body));
    assert.throws(() => new Webhook(generateSecret()).verify(body, headers), /No matching signature/);
    assert.throws(() => new Webhook(newSecret).verify(body.replace('created', 'updated'), headers), /No matching signature/);
    const raw = 'a-raw-secret-of-many-characters';
    const rawHeaders = { ...headers, 'webhook-signature': signatureHeader([raw], 'msg_1', ts, body) };
    assert.ok(new Webhook(raw, { format: 'raw' }).verify(body, rawHeaders));
    assert.equal(verifySignature(raw, rawHeaders['webhook-signature'], 'msg_1', ts, body), true);
  });
  it('refuse weak or malformed secrets', () => {
    assert.deepEqual(secretProblems(generateSecret()), []);
    assert.equal(secretProblems('whsec_c2hvcnQ=').length, 1, 'too short a key');
    assert.equal(secretProblems('whsec_not base64!').length, 1);
    assert.equal(secretProblems('short').length, 1);
  });
});

describe('retry schedule and answers', () => {
  it('follows the schedule with jitter, then is exhausted', () => {
    assert.deepEqual(parseRetrySchedule('5s,5m,30m,2h,5h,10h,10h'), DEFAULT_RETRY_SCHEDULE_MS);
    assert.deepEqual(parseRetrySchedule('1s, 500ms'), [1000, 500]);
    assert.throws(() => parseRetrySchedule('5 parsecs'), /not a duration/);
    assert.equal(retryDelayMs(1, [5000, 300_000], 0.2, () => 0.5), 5000);
    assert.equal(retryDelayMs(1, [5000], 0.2, () => 0), 4000);
    assert.equal(retryDelayMs(1, [5000], 0.2, () => 1), 6000);
    assert.equal(retryDelayMs(2, [5000, 300_000], 0, () => 0.3), 300_000);
    assert.equal(retryDelayMs(3, [5000, 300_000], 0.2), null, 'exhausted after the last delay');
  });
  it('counts 2xx only; redirects fail; 410 disables; 429/503 honour Retry-After; abort-message stops', () => {
    const r = (status: number | null, headers: Record<string, string> = {}) => judgeAttempt({ status, headers, error: null, errorCode: status === null ? 'TIMEOUT' : null }, 0);
    assert.equal(r(204).kind, 'delivered');
    assert.deepEqual(r(302, { location: 'http://127.0.0.2/' }), { kind: 'retry', reason: 'REDIRECT_NOT_FOLLOWED', retryAfterMs: null });
    assert.equal(r(410).kind, 'gone');
    assert.deepEqual(r(429, { 'retry-after': '7' }), { kind: 'retry', reason: 'HTTP_429', retryAfterMs: 7000 });
    assert.deepEqual(r(503, {}), { kind: 'retry', reason: 'HTTP_503', retryAfterMs: null });
    assert.equal(r(500, { 'webhook-delivery': 'abort-message' }).kind, 'abort');
    assert.deepEqual(r(null), { kind: 'retry', reason: 'TIMEOUT', retryAfterMs: null });
    assert.equal(parseRetryAfter('Thu, 01 Jan 1970 00:00:10 GMT', 0), 10_000);
  });
});

describe('circuit breaker transitions', () => {
  it('opens after the threshold, re-opens when the half-open probe fails, closes on success', () => {
    const s = { failureThreshold: 3, openMs: 1000 };
    let b = afterSuccess();
    b = afterFailure(b, s, 0);
    b = afterFailure(b, s, 0);
    assert.equal(b.state, 'closed');
    b = afterFailure(b, s, 10);
    assert.deepEqual(b, { state: 'open', consecutiveFailures: 3, openUntil: 1010 });
    assert.deepEqual(afterFailure({ ...b, state: 'half_open' }, s, 2000), { state: 'open', consecutiveFailures: 4, openUntil: 3000 });
    assert.equal(afterSuccess().state, 'closed');
  });
});

describe('SSRF guard', () => {
  it('classifies special-purpose addresses, v4, v6 and v4-mapped', () => {
    assert.equal(classifyAddress('127.0.0.1'), 'loopback');
    assert.equal(classifyAddress('::1'), 'loopback');
    assert.equal(classifyAddress('::ffff:127.0.0.1'), 'loopback');
    assert.equal(classifyAddress('10.2.3.4'), 'private');
    assert.equal(classifyAddress('172.20.0.1'), 'private');
    assert.equal(classifyAddress('192.168.1.1'), 'private');
    assert.equal(classifyAddress('169.254.169.254'), 'metadata');
    assert.equal(classifyAddress('169.254.1.1'), 'link-local');
    assert.equal(classifyAddress('fe80::1'), 'link-local');
    assert.equal(classifyAddress('fd12:3456::1'), 'unique-local');
    assert.equal(classifyAddress('0.0.0.0'), 'unspecified');
    assert.equal(classifyAddress('93.184.216.34'), null);
    assert.equal(classifyAddress('2606:2800:220:1::1'), null);
  });
  it('allows what the allowlist names (with its port), judges every resolved address', () => {
    const list = parseAllowlist('127.0.0.1:8443, 10.1.0.0/16, [::1]:9000');
    assert.equal(allowlisted(list, '127.0.0.1', 8443), true);
    assert.equal(allowlisted(list, '127.0.0.1', 8444), false);
    assert.equal(allowlisted(list, '127.0.0.2', 8443), false);
    assert.equal(allowlisted(list, '10.1.200.3', 1), true);
    assert.equal(allowlisted(list, '::1', 9000), true);
    assert.throws(() => parseAllowlist('localhost'), /not an IP/);
    assert.deepEqual(judgeAddresses(['93.184.216.34'], 443, []), { ok: true, address: '93.184.216.34', family: 4 });
    const mixed = judgeAddresses(['93.184.216.34', '127.0.0.1'], 443, []);
    assert.equal(mixed.ok, false, 'one bad answer refuses the host (rebinding)');
    assert.equal(!mixed.ok && mixed.code, 'SSRF.LOOPBACK');
    assert.equal(checkEndpointUrl('http://example.org/h', { httpsOnly: true }).ok, false);
    assert.equal(checkEndpointUrl('https://u:p@example.org/h', { httpsOnly: false }).ok, false);
  });
});

describe('subscriptions', () => {
  const routed = (audience: string, purpose: string | null = 'TREAT'): MatchableEvent => ({
    kind: 'routed', eventName: 'routed', tier: 'stat', workflows: ['critical-result-review'], messageType: 'ORU^R01', resourceType: 'Observation', critical: true, audiences: [audience], purposeOfUse: purpose,
  });
  const task = (audiences: string[]): MatchableEvent => ({ ...routed('x'), kind: 'task', eventName: 'task.escalated', audiences, purposeOfUse: null });
  it('deliver a routed view only to its own audience and purpose, task events to the audiences named', () => {
    const s = { audience: 'care-team', purposeOfUse: 'TREAT', events: ['routed', 'task.*'], filter: {} };
    assert.equal(subscriptionMatches(s, routed('care-team')), true);
    assert.equal(subscriptionMatches(s, routed('scheduling')), false);
    assert.equal(subscriptionMatches(s, routed('care-team', 'HPAYMT')), false);
    assert.equal(subscriptionMatches(s, task(['oncall', 'care-team'])), true);
    assert.equal(subscriptionMatches(s, task(['oncall'])), false);
    assert.equal(subscriptionMatches({ ...s, events: ['task.created'] }, task(['care-team'])), false);
    assert.equal(subscriptionMatches({ ...s, audience: OPERATIONS_AUDIENCE, events: ['task.*'] }, task(['oncall'])), true);
    assert.equal(subscriptionMatches({ ...s, audience: OPERATIONS_AUDIENCE, events: ['routed'] }, routed('care-team')), false, 'the operations audience never gets routed views');
    assert.equal(subscriptionMatches({ ...s, filter: { tiers: ['bulk'] } }, routed('care-team')), false);
    assert.equal(subscriptionMatches({ ...s, filter: { messageTypes: ['ORU^*'], criticalOnly: true } }, routed('care-team')), true);
  });
  it('validate requests against the token binding and list every problem', () => {
    assert.throws(() => validateSubscriptionRequest({ secret: 'short', audience: 'billing', purposeOfUse: 'FUN', ordering: 'random', filter: { tiers: ['now'] } }, { audience: 'care-team' }),
      (e: Error & { status: number; details: { problems: string[] } }) => e.status === 422 && e.details.problems.length === 6);
    const ok = validateSubscriptionRequest({ url: 'https://example.org/hook', filter: { tiers: ['stat'] }, ordering: 'patient' }, { audience: 'care-team', purposeOfUse: 'TREAT' });
    assert.deepEqual([ok.audience, ok.purposeOfUse, ok.ordering, ok.secret], ['care-team', 'TREAT', 'patient', undefined]);
    assert.deepEqual(validateSubscriptionRequest({ url: 'https://x.org' }, {}).events, ['task.*'], 'no audience: operations, task events only');
  });
});

describe('FHIR subscriptions (R4B backport)', () => {
  const sub = (extra: Record<string, unknown> = {}) => ({
    resourceType: 'Subscription', status: 'requested', reason: 'critical results', criteria: SUBSCRIPTION_TOPICS[0].url,
    channel: { type: 'rest-hook', endpoint: 'http://127.0.0.1:9/fhir', payload: 'application/fhir+json', extension: [{ url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-heartbeat-period', valueUnsignedInt: 5 }], ...extra },
  });
  it('reads topic, channel, payload content and heartbeat; refuses full-resource over http with a reason', () => {
    const r = readFhirSubscription(sub(), SUBSCRIPTION_TOPICS.map((t) => t.url));
    assert.ok(r.ok);
    assert.deepEqual(r.ok && [r.value.payload, r.value.heartbeatPeriod], ['id-only', 5]);
    const full = readFhirSubscription(sub({ _payload: { extension: [{ url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content', valueCode: 'full-resource' }] } }), SUBSCRIPTION_TOPICS.map((t) => t.url));
    assert.equal(full.ok, false);
    assert.match(JSON.stringify(!full.ok && full.issues), /https/);
    const bad = readFhirSubscription({ resourceType: 'Subscription', criteria: 'http://x/unknown', channel: { type: 'email' } }, SUBSCRIPTION_TOPICS.map((t) => t.url));
    assert.equal(!bad.ok && bad.issues.length, 3);
    const overHttps = readFhirSubscription(sub({ endpoint: 'https://partner.example/fhir', _payload: { extension: [{ url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content', valueCode: 'full-resource' }] } }), SUBSCRIPTION_TOPICS.map((t) => t.url));
    assert.deepEqual(overHttps.ok && overHttps.value.payload, 'full-resource', 'full-resource is accepted over https');
  });

  it('full-resource: the focus rendered from the audience\'s view goes in the entry; a focus the view does not hold stays id-only', () => {
    const view = {
      records: {
        patients: [], encounters: [], diagnosticReports: [], serviceRequests: [], medicationRequests: [], medicationAdministrations: [], immunizations: [], appointments: [],
        conditions: [], allergies: [], documents: [], procedures: [], coverages: [],
        observations: [{
          id: 'obs-k-1', changeType: 'CREATE', correction: false, patientId: null, status: 'final', code: { codings: [{ system: 'http://loinc.org', code: '2823-3', display: 'Potassium', mapping: 'STANDARD', unmapped: false, unmappedReason: null, originalSystem: null, originalCode: null }], text: 'Potassium' },
          valueType: 'NM', valueQuantity: { value: 6.9, comparator: null, unit: 'mmol/L', ucum: 'mmol/L' }, valueString: null, valueCode: null, valueTime: null, convertedValues: [], referenceRange: null, interpretation: [],
          effective: null, issued: null, reportId: null, orderId: null, subId: null, partOfId: null, partOfType: null,
          provenance: { sourceSystem: 'LAB', messageId: 'M1', sourceFormat: 'HL7V2', sourceMessageType: 'ORU^R01', mappingVersion: 'x', sourceFields: ['OBX-5'] },
        }],
      },
    } as unknown as Parameters<typeof focusResource>[0];
    const resource = focusResource(view, { resourceType: 'Observation', id: 'obs-k-1' })!;
    assert.deepEqual([resource.resourceType, resource.id, (resource.valueQuantity as { value: number }).value], ['Observation', 'obs-k-1', 6.9]);
    assert.equal(focusResource(view, { resourceType: 'Observation', id: 'not-in-view' }), null);
    assert.equal(focusResource(null, { resourceType: 'Task', id: 't1' }), null);
    const b = notificationBundle({
      bundleId: 'b2', subscriptionId: 's1', topic: 't', status: 'active', type: 'event-notification', eventsSinceStart: 2, payload: 'full-resource',
      events: [{ eventNumber: 1, timestamp: '2026-11-28T00:00:00Z', focus: 'Observation/obs-k-1', resource }, { eventNumber: 2, timestamp: '2026-11-28T00:00:00Z', focus: 'Observation/gone', resource: null }],
      resourceBase: 'http://fhir', subscriptionBase: 'http://n/fhir', now: '2026-11-28T00:00:00Z',
    }) as { entry: Array<{ fullUrl: string; resource?: Record<string, unknown> }> };
    assert.equal(b.entry[1].fullUrl, 'http://fhir/Observation/obs-k-1');
    assert.equal(b.entry[1].resource, resource);
    assert.equal(b.entry[2].resource, undefined);
  });
  it('builds history Bundles led by the R4 SubscriptionStatus with consecutive event numbers', () => {
    const b = notificationBundle({
      bundleId: 'b1', subscriptionId: 's1', topic: 't', status: 'active', type: 'event-notification', eventsSinceStart: 2, payload: 'id-only',
      events: [{ eventNumber: 2, timestamp: '2026-11-28T00:00:00Z', focus: 'Observation/o1' }], resourceBase: 'http://fhir', subscriptionBase: 'http://n/fhir', now: '2026-11-28T00:00:00Z',
    }) as { type: string; entry: Array<{ fullUrl: string; resource?: { resourceType: string; parameter: Array<{ name: string; valueString?: string; part?: unknown[] }> } }> };
    assert.equal(b.type, 'history');
    assert.equal(b.entry[0].resource!.resourceType, 'Parameters');
    const p = b.entry[0].resource!.parameter;
    assert.equal(p.find((x) => x.name === 'events-since-subscription-start')!.valueString, '2');
    assert.match(JSON.stringify(p.find((x) => x.name === 'notification-event')), /"event-number","valueString":"2".*Observation\/o1/);
    assert.equal(b.entry[1].fullUrl, 'http://fhir/Observation/o1');
  });
});
