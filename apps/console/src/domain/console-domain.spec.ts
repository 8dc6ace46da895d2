import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SessionStore, csrfMatches, roleOf } from './session';
import { MASK, maskHl7, viewHl7 } from './hl7-viewer';
import { hl7View, maskPatientData } from './masking';
import { RingBuffer, histogramQuantile, parsePrometheus, sumWhere } from './metrics';

const ADT = 'MSH|^~\\&|EHR|HOSP|CLINMESH|CLINMESH|20261121083000||ADT^A01^ADT_A01|CTRL-1|P|2.5.1\rPID|1||MRN-1^^^HOSP^MR||DOE^JANE^Q||19800101|F|||1 MAIN ST^^SPRINGFIELD^IL||555-0100\rPV1|1|I|4EAST^401\r';

describe('console sessions', () => {
  it('expires a session after the idle period, and touching it keeps it alive', () => {
    let now = 1_000_000;
    const store = new SessionStore(60_000, () => now);
    const s = store.create({ subject: 'u', scopes: ['lineage:read'], token: 't', tokenExpiresAt: null });
    now += 59_000;
    assert.equal(store.get(s.id)?.subject, 'u');
    now += 59_000;
    assert.equal(store.get(s.id)?.subject, 'u', 'the previous request touched it');
    now += 60_001;
    assert.equal(store.get(s.id), undefined, 'idle too long');
  });

  it('never outlives the bearer token, and forgets destroyed sessions', () => {
    let now = 0;
    const store = new SessionStore(3_600_000, () => now);
    const s = store.create({ subject: 'u', scopes: [], token: 't', tokenExpiresAt: 10_000 });
    now = 10_000;
    assert.equal(store.get(s.id), undefined);
    const t = store.create({ subject: 'v', scopes: [], token: 't', tokenExpiresAt: null });
    store.destroy(t.id);
    assert.equal(store.get(t.id), undefined);
    assert.equal(store.get(undefined), undefined);
  });

  it('admin needs admin:operate; CSRF compares exactly', () => {
    assert.equal(roleOf(['lineage:read', 'admin:operate']), 'admin');
    assert.equal(roleOf(['lineage:read', 'tasks:write']), 'operator');
    const s = new SessionStore(1000).create({ subject: 'u', scopes: [], token: 't', tokenExpiresAt: null });
    assert.equal(csrfMatches(s, s.csrf), true);
    assert.equal(csrfMatches(s, `${s.csrf}x`), false);
    assert.equal(csrfMatches(s, undefined), false);
    assert.notEqual(s.id, s.csrf);
  });
});

describe('HL7 v2 viewer and masking', () => {
  it('names fields the way the standard numbers them (MSH-1 is the separator)', () => {
    const segs = viewHl7(ADT);
    const msh = segs[0].fields;
    assert.deepEqual(msh.find((f) => f.ref === 'MSH-10'), { ref: 'MSH-10', name: 'Message Control ID', value: 'CTRL-1', sensitive: false });
    assert.equal(msh.find((f) => f.ref === 'MSH-9')?.value, 'ADT^A01^ADT_A01');
    const pid5 = segs[1].fields.find((f) => f.ref === 'PID-5');
    assert.deepEqual(pid5, { ref: 'PID-5', name: 'Patient Name', value: 'DOE^JANE^Q', sensitive: true });
    assert.equal(segs[2].fields.find((f) => f.ref === 'PV1-3')?.name, 'Assigned Patient Location');
  });

  it('masks identifying fields of the raw message and of the field view unless revealed', () => {
    const masked = maskHl7(ADT);
    assert.doesNotMatch(masked, /DOE|MRN-1|19800101|MAIN ST|555-0100/);
    assert.match(masked, /CTRL-1/, 'the header stays');
    assert.match(masked, /PV1\|1\|I\|4EAST/, 'non-identifying segments stay');
    assert.equal(hl7View(ADT, false)[1].fields.find((f) => f.ref === 'PID-5')?.value, MASK);
    assert.equal(hl7View(ADT, true)[1].fields.find((f) => f.ref === 'PID-5')?.value, 'DOE^JANE^Q');
  });

  it('masks patient identifiers in nested JSON but keeps what explains the path', () => {
    const out = maskPatientData({ epid: 'EP-123456', tier: 'stat', items: [{ data: { raw: ADT, reason: 'permit by rule r1', patientIdentifiers: [{ value: 'X' }] } }] }) as any;
    assert.equal(out.epid, `${MASK}56`);
    assert.equal(out.tier, 'stat');
    assert.equal(out.items[0].data.reason, 'permit by rule r1');
    assert.deepEqual(out.items[0].data.patientIdentifiers, [MASK]);
    assert.doesNotMatch(out.items[0].data.raw, /DOE/);
  });
});

describe('pipeline metrics', () => {
  const text = [
    '# HELP clinmesh_consumer_lag lag',
    'clinmesh_consumer_lag{tier="stat",topic="a",partition="0"} 3',
    'clinmesh_consumer_lag{tier="stat",topic="a",partition="1"} 4',
    'clinmesh_consumer_lag{tier="bulk",topic="b",partition="0"} 100',
    'clinmesh_end_to_end_latency_seconds_bucket{tier="stat",stage="x",le="0.1"} 50',
    'clinmesh_end_to_end_latency_seconds_bucket{tier="stat",stage="x",le="1"} 100',
    'clinmesh_end_to_end_latency_seconds_bucket{tier="stat",stage="x",le="+Inf"} 100',
  ].join('\n');

  it('sums by labels and interpolates quantiles like histogram_quantile', () => {
    const samples = parsePrometheus(text);
    assert.equal(sumWhere(samples, 'clinmesh_consumer_lag', { tier: 'stat' }), 7);
    assert.equal(sumWhere(samples, 'clinmesh_consumer_lag', { tier: 'urgent' }), null);
    const buckets = samples.filter((s) => s.name === 'clinmesh_end_to_end_latency_seconds_bucket');
    assert.equal(histogramQuantile(0.5, buckets), 0.1);
    assert.ok(Math.abs((histogramQuantile(0.99, buckets) ?? 0) - 0.982) < 1e-9);
    assert.equal(histogramQuantile(0.5, []), null);
  });

  it('keeps only the newest samples in the ring buffer', () => {
    const ring = new RingBuffer<number>(3);
    for (const n of [1, 2, 3, 4, 5]) ring.push(n);
    assert.deepEqual(ring.all(), [3, 4, 5]);
  });
});
