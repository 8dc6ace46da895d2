import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import type { DeliveryEvent, PolicyEvent, RoutedEvent, TaskEvent } from '@clinmesh/schemas';
import { EVENT_TOPICS, stageTopic } from '@clinmesh/topology';
import { ServiceHarness, WebhookReceiver, loopbackCertificate, sumSamples, waitFor } from '@clinmesh/testing';

/**
 * Issue 13, notifier alone on a real Kafka-protocol cluster, registry and
 * PostgreSQL: fed registry-encoded RoutedEvents, TaskEvents and PolicyEvents
 * exactly as policy and task publish them (the contract), delivering to local
 * receivers. Retry delays are seconds; the breaker opens after 3 failures for 1 s.
 */
const RECEIVERS = ['flaky', 'healthy', 'dead', 'exhaust', 'restart', 'revoke', 'fhir', 'redirect'] as const;
type ReceiverName = (typeof RECEIVERS)[number];

let seq = 0;
const id = (p: string) => `${p}-${process.pid}-${++seq}`;

function taskEvent(o: { epid: string; audiences: string[]; change?: TaskEvent['change']; tier?: TaskEvent['tier'] }): TaskEvent {
  const eventId = id('task-ev');
  return {
    eventId, correlationId: id('corr'), causationId: id('routed'), epid: o.epid, tier: o.tier ?? 'urgent', taskId: id('task'), change: o.change ?? 'CREATED',
    workflow: 'critical-result-review', status: 'requested', title: 'Review ORU^R01', dueAt: Date.now() + 3600_000, audiences: o.audiences, messageType: 'ORU^R01',
    resourceType: 'Observation', canonicalId: id('obs'), receivedAt: Date.now(),
  } as TaskEvent;
}

function routedEvent(o: { epid: string; audience: string; decisionId: string; critical?: boolean; canonicalId?: string }): RoutedEvent {
  const eventId = id('routed-ev');
  const correlationId = id('corr');
  const canonicalId = o.canonicalId ?? id('obs');
  return {
    eventId, correlationId, causationId: id('canonical'), epid: o.epid, tier: 'stat',
    decision: { policyVersion: 'v-test', ruleIds: ['critical-lab'], workflows: ['critical-result-review'], audiences: [o.audience], originalTier: 'urgent', explanation: 'critical potassium' },
    audience: o.audience, purposeOfUse: 'TREAT', decisionId: o.decisionId, effect: 'PERMIT', projection: 'clinical', labels: [], critical: o.critical ?? true, deidentified: false,
    canonical: {
      eventId: id('canonical'), correlationId, causationId: id('identified'), epid: o.epid, tier: 'stat', changeType: 'CREATE', occurredAt: null, recordedAt: Date.now(), receivedAt: Date.now(),
      source: { system: 'LAB', facility: 'MAIN', channel: 'MLLP' }, resourceType: 'Observation', canonicalId,
      document: JSON.stringify({ resourceType: 'Observation', id: canonicalId, messageType: 'ORU^R01', code: '2823-3', display: 'Potassium', value: 6.9, unit: 'mmol/L' }),
      provenance: { sourceSystem: 'LAB', messageId: id('msg'), sourceFormat: 'HL7V2', sourceMessageType: 'ORU^R01', mappingVersion: 'test', sourceFields: ['OBX-5'] },
    },
  } as RoutedEvent;
}

describe('notifier: Standard Webhooks, durable retries, breaker, revocation, SSRF, FHIR Subscriptions', { timeout: 900_000 }, () => {
  let h: ServiceHarness;
  const receivers = {} as Record<ReceiverName, WebhookReceiver>;
  const down: Record<string, boolean> = { dead: true, exhaust: true, restart: true, revoke: true };
  let trap: WebhookReceiver;
  let unlisted: WebhookReceiver;
  /** An https subscriber (a throwaway loopback certificate the notifier trusts through NODE_EXTRA_CA_CERTS). */
  let tlsReceiver: WebhookReceiver;
  let certificate: ReturnType<typeof loopbackCertificate> | undefined;

  before(async () => {
    const flakyScript = [{ status: 500 }, { status: 200, hang: true }, { status: 429, headers: { 'retry-after': '1' } }];
    for (const name of RECEIVERS) {
      receivers[name] = new WebhookReceiver('whsec_placeholder', {
        respond: (a) => {
          if (name === 'flaky' && a.raw.includes('"type":"task.')) return flakyScript[a.attempt - 1] ?? { status: 200 };
          if (name === 'dead') return down.dead ? { status: 503, delayMs: 150 } : { status: 200 };
          if (name === 'redirect') return { status: 307, headers: { location: `http://127.0.0.2:${trap.port}/hook` } };
          if (name in down) return down[name] ? { status: 503 } : { status: 200 };
          return undefined;
        },
      });
      await receivers[name].start();
    }
    // Nothing may ever connect to these: the redirect target on 127.0.0.2, and a loopback port the allowlist does not name.
    trap = new WebhookReceiver('unused', { host: '127.0.0.2' });
    await trap.start();
    unlisted = new WebhookReceiver('unused');
    await unlisted.start();
    certificate = loopbackCertificate();
    tlsReceiver = new WebhookReceiver('unused', { tls: certificate });
    await tlsReceiver.start();
    h = await ServiceHarness.start('notifier', {
      perService: {
        notifier: {
          NODE_EXTRA_CA_CERTS: certificate.certFile,
          NOTIFIER_WEBHOOK_ALLOWLIST: [...RECEIVERS.map((n) => `127.0.0.1:${receivers[n].port}`), `127.0.0.1:${tlsReceiver.port}`].join(','),
          NOTIFIER_RETRY_SCHEDULE: '500ms,500ms,1s,1s,1s,1s,1s,1s',
          NOTIFIER_RETRY_JITTER: '0.1',
          NOTIFIER_DELIVERY_TIMEOUT_MS: '1500',
          NOTIFIER_DELIVERY_LEASE_SECONDS: '4',
          NOTIFIER_DELIVERY_POLL_MS: '100',
          NOTIFIER_BREAKER_FAILURE_THRESHOLD: '3',
          NOTIFIER_BREAKER_OPEN_MS: '1000',
          NOTIFIER_HEARTBEAT_CHECK_MS: '250',
          NOTIFIER_FHIR_RESOURCE_BASE_URL: 'http://127.0.0.1:1/fhir',
        },
      },
    });
  });
  after(async () => {
    await h?.stop();
    for (const r of [...Object.values(receivers), trap, unlisted, tlsReceiver]) await r?.stop();
    certificate?.dispose();
  });

  async function subscribe(receiver: WebhookReceiver, body: Record<string, unknown>): Promise<{ id: string; secret: string; etag: string }> {
    const r = await h.request('notifier', 'POST', '/v1/subscriptions', { url: receiver.url, name: 'e2e', ...body });
    assert.equal(r.status, 201, r.text);
    const s = r.json();
    assert.match(s.secret, /^whsec_/);
    receiver.useSecret(s.secret);
    return { id: s.id, secret: s.secret, etag: r.headers.get('etag')! };
  }

  const deliveries = async (q: Record<string, string>) => {
    const r = await h.request('notifier', 'GET', `/v1/deliveries?${new URLSearchParams(q)}`);
    assert.equal(r.status, 200, r.text);
    return r.json().deliveries as Array<Record<string, any>>;
  };

  it('flaky receiver (500, timeout, 429 Retry-After, 200): every event processed once by webhook-id, signatures verify with standardwebhooks; a rotation signs with both keys', async () => {
    const r = receivers.flaky;
    const sub = await subscribe(r, { audience: 'aud-flaky', purposeOfUse: 'TREAT', events: ['task.*'] });
    const events = [1, 2, 3].map((i) => taskEvent({ epid: `EPID-FLAKY-${i}`, audiences: ['aud-flaky'] }));
    await h.produce(stageTopic('tasks', 'urgent'), events.map((e) => ({ key: e.epid, value: e })));
    await waitFor(() => r.processed().size === 3, { what: '3 flaky deliveries processed', timeoutMs: 120_000, intervalMs: 100 });

    const processed = r.processed();
    assert.deepEqual(new Set([...processed.values()].map((d) => d.eventId)), new Set(events.map((e) => e.eventId)), 'none missing');
    for (const [webhookId, d] of processed) {
      const tries = r.attempts.filter((a) => a.webhookId === webhookId);
      assert.deepEqual(tries.map((a) => a.answered), [500, 'no answer', 429, 200], 'the same webhook-id on every retry');
      assert.equal(r.deliveries.filter((x) => x.deliveryId === webhookId).length, 1, 'accepted once');
      const verified = new Webhook(sub.secret).verify(d.raw, d.headers as Record<string, string>) as { type: string; timestamp: string; data: TaskEvent };
      assert.equal(verified.type, 'task.created');
      assert.equal(verified.data.eventId, d.eventId);
      assert.ok(Number(d.headers['webhook-timestamp']) > 1_700_000_000, 'unix seconds');
    }
    const [view] = await deliveries({ subscriptionId: sub.id, status: 'delivered', limit: '1' });
    assert.deepEqual(view.attempts.map((a: { statusCode: number | null }) => a.statusCode), [500, null, 429, 200]);
    assert.match(view.attempts[1].error, /no answer within 1500 ms/);
    assert.ok(view.attempts.every((a: { latencyMs: number }) => Number.isInteger(a.latencyMs)));

    // Rotation: If-Match required, both keys sign during the grace period.
    assert.equal((await h.request('notifier', 'POST', `/v1/subscriptions/${sub.id}/rotate-secret`, {}, { 'if-match': '"999"' })).status, 412);
    const rot = await h.request('notifier', 'POST', `/v1/subscriptions/${sub.id}/rotate-secret`, {}, { 'if-match': sub.etag });
    assert.equal(rot.status, 200, rot.text);
    const newSecret = rot.json().secret as string;
    assert.notEqual(newSecret, sub.secret);
    const test = await h.request('notifier', 'POST', `/v1/subscriptions/${sub.id}/test`);
    assert.equal(test.status, 202, test.text);
    const probe = await waitFor(() => r.deliveries.find((d) => d.deliveryId === test.json().deliveryId), { what: 'test event', timeoutMs: 30_000 });
    assert.equal(probe.type, 'webhook.test');
    assert.equal(String(probe.headers['webhook-signature']).split(' ').length, 2, 'two signatures during the grace period');
    assert.ok(new Webhook(newSecret).verify(probe.raw, probe.headers as Record<string, string>));
    assert.ok(new Webhook(sub.secret).verify(probe.raw, probe.headers as Record<string, string>));
  });

  it('dead receiver: the breaker opens without holding others back, half-open sends one probe, the backlog drains in patient order; exhaustion makes dead deliveries that redrive delivers', async () => {
    const dead = await subscribe(receivers.dead, { audience: 'aud-dead', events: ['task.*'], ordering: 'patient' });
    const healthy = await subscribe(receivers.healthy, { audience: 'aud-dead', events: ['task.*'] });
    const exhaust = await subscribe(receivers.exhaust, { audience: 'aud-exhaust', events: ['task.*'] });
    const ordered = ['P1', 'P2', 'P1', 'P2', 'P1', 'P2'].map((p) => taskEvent({ epid: `EPID-DEAD-${p}`, audiences: ['aud-dead'] }));
    await h.produce(stageTopic('tasks', 'urgent'), ordered.map((e) => ({ key: e.epid, value: e })));
    const doomed = [1, 2].map((i) => taskEvent({ epid: `EPID-EXH-${i}`, audiences: ['aud-exhaust'] }));
    await h.produce(stageTopic('tasks', 'routine'), doomed.map((e) => ({ key: e.epid, value: e })));

    await waitFor(() => receivers.healthy.processed().size === 6, { what: 'healthy subscriber gets all 6', timeoutMs: 60_000 });
    const [{ n: pendingForDead }] = await h.query('notifier', `SELECT count(*)::int AS n FROM nf_delivery WHERE subscription_id = $1 AND status IN ('pending', 'in_flight')`, [dead.id]);
    assert.equal(pendingForDead, 6, 'the dead subscription still has every delivery pending while the healthy one is done');

    await waitFor(async () => (await h.request('notifier', 'GET', `/v1/subscriptions/${dead.id}`)).json().health.breaker !== 'closed', { what: 'breaker open', timeoutMs: 30_000 });
    const breakerGauge = async (id: string) => sumSamples((await h.request('notifier', 'GET', '/metrics')).text, 'clinmesh_webhook_breaker_open', { subscription: id });
    assert.equal(await breakerGauge(dead.id), 1, 'the breaker gauge reports the open breaker');
    assert.equal(await breakerGauge(healthy.id), 0, 'and a closed one as 0');
    const before = receivers.dead.attempts.length;
    receivers.dead.maxInFlight = receivers.dead.inFlight;
    await waitFor(() => receivers.dead.attempts.length >= before + 3, { what: '3 half-open probes', timeoutMs: 30_000 });
    assert.equal(receivers.dead.maxInFlight, 1, 'an open breaker admits one probe at a time');
    assert.equal(receivers.healthy.processed().size, 6);

    down.dead = false;
    await waitFor(() => receivers.dead.processed().size === 6, { what: 'backlog drained after recovery', timeoutMs: 60_000 });
    await waitFor(async () => (await breakerGauge(dead.id)) === 0, { what: 'the breaker gauge back to 0 after recovery', timeoutMs: 30_000 });
    for (const patient of ['EPID-DEAD-P1', 'EPID-DEAD-P2']) {
      const sent = ordered.filter((e) => e.epid === patient).map((e) => e.eventId);
      const got = [...receivers.dead.processed().values()].filter((d) => d.body.epid === patient).map((d) => d.eventId);
      assert.deepEqual(got, sent, `${patient}'s deliveries in event order`);
    }

    await waitFor(async () => (await deliveries({ subscriptionId: exhaust.id, status: 'dead' })).length === 2, { what: 'exhausted deliveries dead', timeoutMs: 180_000, intervalMs: 500 });
    const deadOnes = await deliveries({ subscriptionId: exhaust.id, status: 'dead' });
    assert.ok(deadOnes.every((d) => d.reason === 'RETRIES_EXHAUSTED' && d.attempts.length === 9), JSON.stringify(deadOnes.map((d) => [d.reason, d.attempts.length])));
    const notDead = await h.request('notifier', 'POST', `/v1/deliveries/${(await deliveries({ subscriptionId: healthy.id, limit: '1' }))[0].id}/redrive`);
    assert.equal(notDead.status, 409, 'only dead deliveries are redriven');
    down.exhaust = false;
    const one = await h.request('notifier', 'POST', `/v1/deliveries/${deadOnes[0].id}/redrive`);
    assert.equal(one.status, 202, one.text);
    const many = await h.request('notifier', 'POST', '/v1/deliveries/redrive', { subscriptionId: exhaust.id });
    assert.equal(many.status, 202, many.text);
    assert.equal(many.json().count, 1, 'the other dead one, by filter');
    await waitFor(() => receivers.exhaust.processed().size === 2, { what: 'redriven deliveries delivered', timeoutMs: 60_000 });
  });

  it('restart: notifier SIGKILLed with retries pending makes every pending delivery once after restart', async () => {
    const sub = await subscribe(receivers.restart, { audience: 'aud-restart', events: ['task.*'] });
    const events = [1, 2, 3, 4].map((i) => taskEvent({ epid: `EPID-RST-${i}`, audiences: ['aud-restart'] }));
    await h.produce(stageTopic('tasks', 'urgent'), events.map((e) => ({ key: e.epid, value: e })));
    await waitFor(async () => {
      const [{ n }] = await h.query('notifier', 'SELECT count(*)::int AS n FROM nf_delivery WHERE subscription_id = $1 AND attempts >= 1', [sub.id]);
      return n === 4;
    }, { what: 'every delivery attempted and waiting for a retry', timeoutMs: 60_000 });
    await h.processes.notifier.kill('SIGKILL');
    down.restart = false;
    h.processes.notifier.start();
    await h.waitReady(['notifier']);
    await waitFor(() => receivers.restart.processed().size === 4, { what: '4 deliveries after restart', timeoutMs: 90_000 });
    assert.equal(receivers.restart.deliveries.length, 4, 'each made once');
    assert.deepEqual(new Set(receivers.restart.deliveries.map((d) => d.eventId)), new Set(events.map((e) => e.eventId)));
  });

  it('revocation: a DECISION_REVOKED for a delivery waiting for a retry cancels it, recorded and published', async () => {
    const sub = await subscribe(receivers.revoke, { audience: 'aud-revoke', purposeOfUse: 'TREAT', events: ['routed'] });
    const revoked = routedEvent({ epid: 'EPID-REV-1', audience: 'aud-revoke', decisionId: id('dec') });
    const kept = routedEvent({ epid: 'EPID-REV-2', audience: 'aud-revoke', decisionId: id('dec') });
    const otherAudience = routedEvent({ epid: 'EPID-REV-1', audience: 'scheduling', decisionId: id('dec') });
    await h.produce(stageTopic('routed', 'stat'), [revoked, kept, otherAudience].map((e) => ({ key: e.epid, value: e, tier: 'stat' })));
    await waitFor(() => receivers.revoke.attempts.length >= 2, { what: 'first attempts failed', timeoutMs: 30_000 });
    const revocation: PolicyEvent = {
      eventId: id('pol'), correlationId: id('corr'), kind: 'DECISION_REVOKED', epid: 'EPID-REV-1', subjectId: revoked.decisionId!, audience: 'aud-revoke',
      actor: 'patient-portal', reason: 'CONSENT_REVOKED', expiresAt: null, details: {}, at: Date.now(),
    };
    await h.produce(EVENT_TOPICS.policy, [{ key: 'EPID-REV-1', value: revocation }]);
    await waitFor(async () => (await deliveries({ subscriptionId: sub.id, status: 'cancelled' })).length === 1, { what: 'revoked delivery cancelled', timeoutMs: 30_000 });
    down.revoke = false;
    await waitFor(() => receivers.revoke.processed().size === 1, { what: 'the other view delivered', timeoutMs: 30_000 });
    const [cancelled] = await deliveries({ subscriptionId: sub.id, status: 'cancelled' });
    assert.equal(cancelled.decisionId, revoked.decisionId);
    assert.equal(cancelled.reason, 'DECISION_REVOKED');
    assert.deepEqual([...receivers.revoke.processed().values()].map((d) => d.eventId), [kept.eventId], 'the revoked view never reached the subscriber; the other audience\'s view was never for it');
    const view = [...receivers.revoke.processed().values()][0];
    assert.equal((view.body as { audience: string }).audience, 'aud-revoke');
    assert.equal((view.body as { decisionId: string }).decisionId, kept.decisionId);
  });

  it('SSRF: loopback literal, a name resolving to loopback, metadata and credentials are refused at registration without connecting; a redirect fails the attempt and is not followed', async () => {
    const refusals: Array<[string, RegExp]> = [
      [`http://127.0.0.1:${unlisted.port}/hook`, /SSRF\.LOOPBACK/],
      [`http://localhost:${unlisted.port}/hook`, /SSRF\.LOOPBACK/],
      [`http://[::1]:${unlisted.port}/hook`, /SSRF\.LOOPBACK/],
      ['http://169.254.169.254/latest/meta-data', /SSRF\.METADATA/],
      [`http://user:pw@127.0.0.1:${receivers.healthy.port}/hook`, /URL\.CREDENTIALS/],
    ];
    for (const [url, reason] of refusals) {
      const r = await h.request('notifier', 'POST', '/v1/subscriptions', { url, audience: 'aud-ssrf', events: ['task.*'] });
      assert.equal(r.status, 422, `${url}: ${r.text}`);
      assert.match(r.json().reason ?? '', reason, url);
    }
    assert.equal(unlisted.connections, 0, 'no connection to a refused endpoint');

    const sub = await subscribe(receivers.redirect, { audience: 'aud-redirect', events: ['task.*'] });
    const e = taskEvent({ epid: 'EPID-REDIR', audiences: ['aud-redirect'] });
    await h.produce(stageTopic('tasks', 'urgent'), [{ key: e.epid, value: e }]);
    const [d] = await waitFor(async () => {
      const list = await deliveries({ subscriptionId: sub.id });
      return list[0]?.attempts?.length >= 2 ? list : undefined;
    }, { what: 'redirected attempts recorded', timeoutMs: 30_000 });
    assert.equal(d.attempts[0].statusCode, 307);
    assert.match(d.attempts[0].error, /redirect \(307\) to http:\/\/127\.0\.0\.2:\d+ not followed/);
    assert.equal(trap.connections, 0, 'nothing connected to the redirect target');
    assert.equal(receivers.redirect.processed().size, 0);
  });

  it('FHIR Subscription (R4B backport): handshake, id-only notification with event number 1, heartbeat, and $events after the receiver was down', async () => {
    const token = await h.token(['subscriptions:write', 'subscriptions:read'], 'oncall-app', { audience: 'critical-result-oncall', purposeOfUse: 'TREAT' });
    const topics = await h.request('notifier', 'GET', '/fhir/Subscription/$topic-list', undefined, {}, token);
    assert.equal(topics.status, 200, topics.text);
    const critical = topics.json().parameter.map((p: { valueCanonical: string }) => p.valueCanonical).find((u: string) => u.endsWith('/critical-result'));
    assert.ok(critical);
    const unbound = await h.request('notifier', 'POST', '/fhir/Subscription', { resourceType: 'Subscription' });
    assert.equal(unbound.status, 422);
    assert.equal(unbound.json().resourceType, 'OperationOutcome');

    const r = receivers.fhir;
    const created = await h.request('notifier', 'POST', '/fhir/Subscription', {
      resourceType: 'Subscription', status: 'requested', reason: 'on-call critical results', criteria: critical,
      channel: {
        type: 'rest-hook', endpoint: r.url, payload: 'application/fhir+json',
        extension: [{ url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-heartbeat-period', valueUnsignedInt: 2 }],
        _payload: { extension: [{ url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content', valueCode: 'id-only' }] },
      },
    }, {}, token);
    assert.equal(created.status, 201, created.text);
    const subId = created.json().id as string;
    const statusParam = (b: Record<string, any>, name: string) => b.entry[0].resource.parameter.find((p: { name: string }) => p.name === name);
    const ofType = (t: string) => r.deliveries.filter((d) => statusParam(d.body, 'type')?.valueCode === t);

    await waitFor(() => ofType('handshake')[0], { what: 'handshake', timeoutMs: 30_000 });
    await waitFor(async () => (await h.request('notifier', 'GET', `/fhir/Subscription/${subId}`, undefined, {}, token)).json().status === 'active', { what: 'active after the handshake', timeoutMs: 10_000 });

    const potassium = routedEvent({ epid: 'EPID-K-1', audience: 'critical-result-oncall', decisionId: id('dec'), canonicalId: 'obs-k-1' });
    await h.produce(stageTopic('routed', 'stat'), [{ key: potassium.epid, value: potassium, tier: 'stat' }]);
    const note = (await waitFor(() => ofType('event-notification')[0], { what: 'event notification', timeoutMs: 30_000 })) as { body: Record<string, any> };
    assert.equal(note.body.type, 'history');
    assert.equal(note.body.entry[0].resource.resourceType, 'Parameters');
    assert.equal(statusParam(note.body, 'events-since-subscription-start').valueString, '1');
    const event = statusParam(note.body, 'notification-event').part;
    assert.equal(event.find((p: { name: string }) => p.name === 'event-number').valueString, '1');
    assert.equal(event.find((p: { name: string }) => p.name === 'focus').valueReference.reference, 'http://127.0.0.1:1/fhir/Observation/obs-k-1');
    assert.equal(note.body.entry[1].resource, undefined, 'id-only: no resource in the notification');

    await waitFor(() => ofType('heartbeat')[0], { what: 'heartbeat', timeoutMs: 20_000 });

    r.failWith = 503;
    const missed = [2, 3].map((i) => routedEvent({ epid: `EPID-K-${i}`, audience: 'critical-result-oncall', decisionId: id('dec'), canonicalId: `obs-k-${i}` }));
    await h.produce(stageTopic('routed', 'stat'), missed.map((e) => ({ key: e.epid, value: e, tier: 'stat' })));
    await waitFor(async () => {
      const [{ n }] = await h.query('notifier', 'SELECT count(*)::int AS n FROM nf_delivery WHERE subscription_id = $1 AND fhir_event_number IS NOT NULL AND attempts >= 1 AND status = $2', [subId, 'pending']);
      return n === 2;
    }, { what: 'notifications 2 and 3 failing', timeoutMs: 30_000 });
    const status = await h.request('notifier', 'GET', `/fhir/Subscription/${subId}/$status`, undefined, {}, token);
    assert.equal(status.status, 200, status.text);
    assert.equal(statusParam(status.json(), 'events-since-subscription-start').valueString, '3');
    const events = await h.request('notifier', 'GET', `/fhir/Subscription/${subId}/$events?eventsSinceNumber=2`, undefined, {}, token);
    assert.equal(events.status, 200, events.text);
    const parts = events.json().entry[0].resource.parameter.filter((p: { name: string }) => p.name === 'notification-event').map((p: { part: Array<{ name: string; valueString?: string; valueReference?: { reference: string } }> }) => [
      p.part.find((x) => x.name === 'event-number')!.valueString, p.part.find((x) => x.name === 'focus')!.valueReference!.reference]);
    // Two patients, two partitions: numbered consecutively in the order the notifier consumed them.
    assert.deepEqual(parts.map((p: string[]) => p[0]), ['2', '3']);
    assert.deepEqual(new Set(parts.map((p: string[]) => p[1])), new Set(['http://127.0.0.1:1/fhir/Observation/obs-k-2', 'http://127.0.0.1:1/fhir/Observation/obs-k-3']));
    r.failWith = null;
  });

  it('FHIR full-resource payload: refused over http, accepted over https; the notification carries the focus as the audience\'s view holds it', async () => {
    const token = await h.token(['subscriptions:write', 'subscriptions:read'], 'oncall-full', { audience: 'critical-result-oncall', purposeOfUse: 'TREAT' });
    const critical = (await h.request('notifier', 'GET', '/fhir/Subscription/$topic-list', undefined, {}, token)).json().parameter
      .map((p: { valueCanonical: string }) => p.valueCanonical).find((u: string) => u.endsWith('/critical-result'));
    const subscription = (endpoint: string) => ({
      resourceType: 'Subscription', status: 'requested', reason: 'on-call critical results with the resource', criteria: critical,
      channel: {
        type: 'rest-hook', endpoint, payload: 'application/fhir+json',
        _payload: { extension: [{ url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content', valueCode: 'full-resource' }] },
      },
    });
    const overHttp = await h.request('notifier', 'POST', '/fhir/Subscription', subscription(receivers.healthy.url), {}, token);
    assert.equal(overHttp.status, 422, overHttp.text);
    assert.match(JSON.stringify(overHttp.json().issue), /https endpoint/);
    const created = await h.request('notifier', 'POST', '/fhir/Subscription', subscription(tlsReceiver.url), {}, token);
    assert.equal(created.status, 201, created.text);
    const statusOf = (b: Record<string, any>) => b.entry[0].resource.parameter.find((p: { name: string }) => p.name === 'type')?.valueCode;
    await waitFor(() => tlsReceiver.deliveries.find((d) => statusOf(d.body) === 'handshake'), { what: 'handshake over https', timeoutMs: 30_000 });

    const potassium = routedEvent({ epid: 'EPID-K-FULL', audience: 'critical-result-oncall', decisionId: id('dec'), canonicalId: 'obs-k-full' });
    potassium.canonical.records = {
      patients: [], encounters: [], diagnosticReports: [], serviceRequests: [], medicationRequests: [], medicationAdministrations: [], immunizations: [], appointments: [],
      conditions: [], allergies: [], documents: [], procedures: [], coverages: [],
      observations: [{
        id: 'obs-k-full', changeType: 'CREATE', correction: false, patientId: null, status: 'final',
        code: { codings: [{ system: 'http://loinc.org', code: '2823-3', display: 'Potassium', mapping: 'STANDARD', unmapped: false, unmappedReason: null, originalSystem: null, originalCode: null }], text: 'Potassium' },
        valueType: 'NM', valueQuantity: { value: 6.9, comparator: null, unit: 'mmol/L', ucum: 'mmol/L' }, valueString: null, valueCode: null, valueTime: null, convertedValues: [],
        referenceRange: null, interpretation: [], effective: null, issued: null, reportId: null, orderId: null, subId: null, partOfId: null, partOfType: null,
        provenance: { sourceSystem: 'LAB', messageId: 'M-FULL', sourceFormat: 'HL7V2', sourceMessageType: 'ORU^R01', mappingVersion: 'test', sourceFields: ['OBX-5'] },
      }],
    } as unknown as RoutedEvent['canonical']['records'];
    await h.produce(stageTopic('routed', 'stat'), [{ key: potassium.epid, value: potassium, tier: 'stat' }]);
    const note = (await waitFor(() => tlsReceiver.deliveries.find((d) => statusOf(d.body) === 'event-notification'), { what: 'full-resource notification over https', timeoutMs: 30_000 })) as { body: Record<string, any> };
    const resource = note.body.entry[1].resource;
    assert.equal(resource.resourceType, 'Observation');
    assert.equal(resource.id, 'obs-k-full');
    assert.equal(resource.valueQuantity.value, 6.9);
    assert.equal(resource.code.coding[0].code, '2823-3');
  });

  it('publishes DELIVERED, DEAD and CANCELLED delivery events on clinical.delivery.events (keyed by subscription, no payload)', async () => {
    const consumer = h.kafka().consumer({ groupId: id('delivery-reader') });
    const seen: DeliveryEvent[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: EVENT_TOPICS.delivery, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => { seen.push(await h.decode<DeliveryEvent>(message.value)); } });
    try {
      await waitFor(() => ['DELIVERED', 'DEAD', 'CANCELLED'].every((s) => seen.some((e) => e.status === s)), { what: 'each kind of delivery event', timeoutMs: 60_000 });
      const cancelled = seen.find((e) => e.status === 'CANCELLED')!;
      assert.equal(cancelled.reason, 'DECISION_REVOKED');
      assert.equal(cancelled.audience, 'aud-revoke');
      assert.ok(cancelled.decisionId);
      const deadOne = seen.find((e) => e.status === 'DEAD')!;
      assert.equal(deadOne.reason, 'RETRIES_EXHAUSTED');
      assert.equal(new Set(seen.map((e) => e.eventId)).size, seen.length, 'no duplicate delivery events');
    } finally {
      await consumer.disconnect();
    }
  });
});
