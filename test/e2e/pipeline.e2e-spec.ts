import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { loadSchemaCatalog } from '@clinmesh/schemas';
import { HEADER } from '@clinmesh/event-runtime';
import { TestPipeline, WebhookReceiver, adtMessage, waitFor } from '@clinmesh/testing';

const FIXTURES = join(__dirname, '..', '..', '..', '..', 'shared', 'fixtures', 'hl7v2');

/**
 * Issue #2 proofs 1–4 against the six real services, the embedded
 * Kafka-protocol cluster, the schema registry and PostgreSQL.
 */
describe('walking skeleton: six services end to end', { timeout: 600_000 }, () => {
  let pipeline: TestPipeline;
  let webhook: WebhookReceiver;

  before(async () => {
    pipeline = await TestPipeline.start('skeleton');
    webhook = await pipeline.subscribeWebhook();
  });
  after(async () => {
    await webhook?.stop();
    await pipeline?.stop();
  });

  it('delivers an ADT over HTTP and one over MLLP to the webhook with their correlation ids, each with a task', async () => {
    const httpAdt = readFileSync(join(FIXTURES, 'ADT-A01-01.hl7'));
    const http = await pipeline.sendHl7(httpAdt.toString('utf8'));
    assert.equal(http.status, 200);
    assert.match(http.ack, /MSA\|AA\|/);
    assert.ok(http.messageId);

    const mllp = await pipeline.mllpClient();
    const mllpAck = (await mllp.send(adtMessage({ controlId: 'MLLP-0001', mrn: 'MRN-MLLP-1' }))).toString('utf8');
    await mllp.close();
    assert.match(mllpAck, /MSA\|AA\|MLLP-0001/);
    const [row] = await pipeline.query('ingest', `SELECT message_id FROM in_message WHERE control_id = 'MLLP-0001'`);
    const mllpCorrelation = row.message_id as string;

    for (const correlationId of [http.messageId!, mllpCorrelation]) {
      const delivery = await waitFor(() => webhook.byCorrelation(correlationId)[0], { what: `webhook for ${correlationId}`, timeoutMs: 60000 });
      assert.equal(delivery.signatureValid, true);
      assert.equal((delivery.body as { correlationId: string }).correlationId, correlationId);
      const tasks = await pipeline.tasks({ correlationId });
      assert.equal(tasks.length, 1, 'one task per admission');
      assert.equal(tasks[0].workflow, 'admission-notice');
      assert.equal(tasks[0].tier, 'urgent');
    }
  });

  it('refuses reads without a token (401) or without the scope (403), as problem+json', async () => {
    const anonymous = await fetch(`${pipeline.urls.task}/v1/tasks`, { headers: { 'x-request-id': 'e2e-anonymous-1' } });
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('content-type') ?? '', /application\/problem\+json/);
    const refusal = (await anonymous.json()) as { code: string; requestId: string };
    assert.equal(refusal.code, 'AUTH.MISSING_TOKEN');
    // The request id a client can hand an operator: in the header and the problem body alike.
    assert.equal(anonymous.headers.get('x-request-id'), 'e2e-anonymous-1');
    assert.equal(refusal.requestId, 'e2e-anonymous-1');
    const weak = await fetch(`${pipeline.urls.task}/v1/tasks`, { headers: { authorization: `Bearer ${await pipeline.token(['ingest:write'])}` } });
    assert.equal(weak.status, 403);
    const weakRefusal = (await weak.json()) as { code: string; requestId: string };
    assert.equal(weakRefusal.code, 'AUTH.INSUFFICIENT_SCOPE');
    assert.match(weakRefusal.requestId, /^[0-9a-f-]{36}$/, 'a request without an id is given one');
    assert.equal(weak.headers.get('x-request-id'), weakRefusal.requestId);
    const live = await fetch(`${pipeline.urls.task}/health/live`);
    assert.equal(live.status, 200, 'health probes are public');
  });

  it('loses and duplicates nothing when a middle service is SIGKILLed while 1,000 messages flow', async () => {
    const total = 1000;
    const connections = await Promise.all([0, 1, 2, 3].map(() => pipeline.mllpClient()));
    const controlIds = Array.from({ length: total }, (_, i) => `CRASH-${String(i).padStart(5, '0')}`);
    let sent = 0;
    const send = async (conn: number) => {
      for (let i = conn; i < total; i += connections.length) {
        const ack = (await connections[conn].send(adtMessage({ controlId: controlIds[i], mrn: `MRN-C-${i % 97}` }))).toString('utf8');
        assert.match(ack, /MSA\|AA\|/);
        sent++;
      }
    };
    const sending = Promise.all(connections.map((_, c) => send(c)));
    await waitFor(() => sent >= 300, { what: '300 messages sent', timeoutMs: 60000, intervalMs: 20 });
    await pipeline.processes.normalization.kill('SIGKILL');
    pipeline.processes.normalization.start();
    await sending;
    await Promise.all(connections.map((c) => c.close()));
    await pipeline.waitReady(['normalization']);

    const ids = await pipeline.query('ingest', `SELECT message_id FROM in_message WHERE control_id LIKE 'CRASH-%'`);
    assert.equal(ids.length, total);
    const correlations = new Set(ids.map((r) => r.message_id as string));
    // The EMPI may also open identity-review work for lookalike test patients: that is its own
    // workflow, not the admission task each message must yield exactly once.
    const admission = (d: { correlationId: string; body: Record<string, unknown> }) => correlations.has(d.correlationId) && d.body.workflow === 'admission-notice';
    await waitFor(() => new Set(webhook.deliveries.filter(admission).map((d) => d.correlationId)).size === total,
      { what: `${total} webhook deliveries`, timeoutMs: 240000, intervalMs: 500 });

    const [tasks] = await pipeline.query('task', `SELECT count(*)::int AS n, count(DISTINCT correlation_id)::int AS c FROM tk_task WHERE correlation_id = ANY($1) AND workflow = 'admission-notice'`, [[...correlations]]);
    assert.deepEqual(tasks, { n: total, c: total }, 'exactly one task per message');
    const [deliveries] = await pipeline.query('notifier', `SELECT count(*)::int AS n, count(DISTINCT source_event_id)::int AS e FROM nf_delivery WHERE correlation_id = ANY($1) AND payload->'data'->>'workflow' = 'admission-notice'`, [[...correlations]]);
    assert.deepEqual(deliveries, { n: total, e: total }, 'exactly one delivery per task event');
    const received = webhook.deliveries.filter(admission);
    assert.equal(new Set(received.map((d) => d.deliveryId)).size, received.length, 'no delivery reached the subscriber twice');
    assert.equal(received.length, total);
  });

  it('replays normalization from earliest: everything is reprocessed and the task count does not change', async () => {
    const [{ n: before }] = await pipeline.query('task', 'SELECT count(*)::int AS n FROM tk_task');
    const deliveriesBefore = webhook.deliveries.length;
    const processedBefore = await pipeline.metric('normalization', 'clinmesh_events_consumed_total', { tier: 'urgent', outcome: 'processed' });
    const duplicatesBefore = await pipeline.metric('policy', 'clinmesh_events_consumed_total', { outcome: 'duplicate' });
    const [{ n: identifiedUrgent }] = await pipeline.query('normalization', `SELECT count(*)::int AS n FROM cm_inbox WHERE consumer_group = 'normalization.urgent'`);
    const routedProduced = async () => {
      let n = 0;
      for (const tier of ['stat', 'urgent', 'routine', 'bulk']) n += await pipeline.metric('policy', 'clinmesh_events_produced_total', { topic: `clinical.routed.${tier}` });
      return n;
    };
    const policyProducedBefore = await routedProduced();

    const replay = await pipeline.request('normalization', 'POST', '/v1/admin/replay', { tier: 'urgent', to: 'earliest' });
    assert.equal(replay.status, 201, replay.text);
    const partitions = replay.json().replayed.flatMap((r: { partitions: Array<{ offset: number }> }) => r.partitions);
    assert.ok(partitions.length > 0, 'the urgent consumer has partitions to replay');
    assert.ok(partitions.every((p: { offset: number }) => p.offset === 0));

    await waitFor(async () => (await pipeline.metric('normalization', 'clinmesh_events_consumed_total', { tier: 'urgent', outcome: 'processed' })) - processedBefore >= identifiedUrgent,
      { what: 'normalization to reprocess every urgent event', timeoutMs: 180000, intervalMs: 500 });
    await waitFor(async () => (await pipeline.metric('policy', 'clinmesh_events_consumed_total', { outcome: 'duplicate' })) - duplicatesBefore >= identifiedUrgent,
      { what: 'policy to see the replayed events as duplicates', timeoutMs: 120000, intervalMs: 500 });
    // Absence without the clock: policy saw every replayed event (the watermark above) and its outbox is
    // empty, so whatever it was going to publish is published — and it published nothing. With no new
    // routed event, task and notifier have nothing new to act on.
    await waitFor(async () => (await pipeline.query('policy', 'SELECT count(*)::int AS n FROM cm_outbox'))[0].n === 0, { what: 'policy\'s outbox to be empty', timeoutMs: 60000 });
    assert.equal(await routedProduced(), policyProducedBefore, 'policy routed nothing for replayed events');
    const [{ n: afterCount }] = await pipeline.query('task', 'SELECT count(*)::int AS n FROM tk_task');
    assert.equal(afterCount, before);
    assert.equal(webhook.deliveries.length, deliveriesBefore, 'no new webhook deliveries from a replay');
  });

  it('dead-letters an undecodable event, keeps the partition moving, and redrives it once the schema is known', async () => {
    const catalog = loadSchemaCatalog();
    const topic = 'clinical.identified.routine';
    const registry = new SchemaRegistry({ host: pipeline.env.registryUrl, auth: pipeline.env.registryAuth });
    const goodId = await registry.getLatestSchemaId(`${topic}-value`);
    const unknownId = 900000 + Math.floor(Math.random() * 90000);
    const identified = (correlationId: string) => ({
      eventId: `ev-${correlationId}`, correlationId, causationId: `cause-${correlationId}`, epid: 'EP-POISON-TEST', tier: 'routine' as const,
      identity: { method: 'deterministic-identifier', score: null, personCreated: false },
      ingested: {
        eventId: `ing-${correlationId}`, correlationId, receivedAt: Date.now(), tier: 'routine' as const, triageRule: 'test', source: { system: 'TEST', facility: 'T', channel: 'HTTP' as const },
        format: 'HL7V2' as const, messageType: 'ADT^A08', controlId: correlationId, version: '2.5.1', sourcePatientKey: 'k', patientIdentifiers: [],
        contentType: 'x-application/hl7-v2+er7', raw: Buffer.from('MSH|...'),
      },
    });
    const wire = (schemaId: number, value: unknown) => {
      const header = Buffer.alloc(5);
      header.writeInt32BE(schemaId, 1);
      return Buffer.concat([header, catalog.type('IdentifiedEvent').toBuffer(value)]);
    };
    const headers = (id: string) => ({ [HEADER.eventId]: `ev-${id}`, [HEADER.correlationId]: id, [HEADER.tier]: 'routine', [HEADER.receivedAt]: String(Date.now()) });
    const producer = pipeline.kafka().producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [
      { key: 'EP-POISON-TEST', value: wire(unknownId, identified('poison-1')), headers: headers('poison-1') },
      { key: 'EP-POISON-TEST', value: wire(goodId, identified('after-poison-1')), headers: headers('after-poison-1') },
    ] });
    await producer.disconnect();

    const deadLetter = await waitFor(async () => {
      const r = await pipeline.request('normalization', 'GET', '/v1/admin/dead-letters?status=dead');
      return (r.json() as Array<{ id: string; correlationId: string; errorCode: string }>).find((d) => d.correlationId === 'poison-1');
    }, { what: 'the dead letter', timeoutMs: 60000 });
    assert.equal(deadLetter.errorCode, 'SERDE.UNKNOWN_SCHEMA_ID');
    await waitFor(async () => (await pipeline.tasks({ correlationId: 'after-poison-1' })).length === 1, { what: 'the next event on the partition to flow', timeoutMs: 60000 });
    assert.ok((await pipeline.metric('normalization', 'clinmesh_dead_letters_total', { code: 'SERDE.UNKNOWN_SCHEMA_ID' })) >= 1);

    const stillBroken = await pipeline.request('normalization', 'POST', `/v1/admin/dead-letters/${deadLetter.id}/redrive`);
    assert.equal(stillBroken.json().status, 'dead', 'redrive fails while the schema is still unknown');

    // The fix: import the producer's schema under the id it used (Confluent IMPORT mode).
    const subject = `imported-${unknownId}-value`;
    const auth = `Basic ${Buffer.from(pipeline.env.registryBasicAuth).toString('base64')}`;
    const put = await fetch(`${pipeline.env.registryUrl}/mode/${subject}`, { method: 'PUT', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify({ mode: 'IMPORT' }) });
    assert.equal(put.status, 200, await put.text());
    const imported = await fetch(`${pipeline.env.registryUrl}/subjects/${subject}/versions`, {
      method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ schema: JSON.stringify(catalog.schema('IdentifiedEvent')), id: unknownId, version: 1 }),
    });
    assert.equal(imported.status, 200, await imported.text());

    const redriven = await pipeline.request('normalization', 'POST', `/v1/admin/dead-letters/${deadLetter.id}/redrive`);
    assert.equal(redriven.json().status, 'redriven', redriven.text);
    await waitFor(async () => (await pipeline.tasks({ correlationId: 'poison-1' })).length === 1, { what: 'the redriven event to become a task', timeoutMs: 60000 });
    const dlq = await pipeline.request('normalization', 'GET', '/v1/admin/dead-letters?status=redriven');
    assert.ok(dlq.json().some((d: { id: string }) => d.id === deadLetter.id));
  });
});
