import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { MllpClient, MllpClientError, MllpFrameDecoder, encodeMllpFrame } from '@clinmesh/hl7v2';
import { IngestPipeline, IngestedTopicReader, adtMessage, oruMessage, waitFor } from '@clinmesh/testing';

/** Kafka error codes the mock answers Produce with during the simulated outage. */
const REQUEST_TIMED_OUT = 7;
const NOT_LEADER_OR_FOLLOWER = 6;
const PRODUCE_API_KEY = 0;


describe('ingest keeps accepting while Kafka is down, and loses nothing when it is killed', { timeout: 900_000 }, () => {
  let pipeline: IngestPipeline;
  let reader: IngestedTopicReader;

  before(async () => {
    pipeline = await IngestPipeline.start('ingest_resilience');
    reader = new IngestedTopicReader(pipeline.kafka(), { url: pipeline.env.registryUrl, auth: pipeline.env.registryAuth });
    await reader.start();
  });
  after(async () => {
    await reader?.stop();
    await pipeline?.stop();
  });

  /** Distinct event ids seen on the topics for each control id (duplicate deliveries of one event collapse). */
  const eventIdsByControlId = () => {
    const map = new Map<string, Set<string>>();
    for (const r of reader.records) {
      const set = map.get(r.value.controlId) ?? new Set<string>();
      set.add(r.value.eventId);
      map.set(r.value.controlId, set);
    }
    return map;
  };

  it('ACKs every message during a Kafka outage (they wait in the outbox) and publishes each exactly once when Kafka returns', async () => {
    // The outage: the next OUTAGE_REQUESTS Produce requests fail (the mock consumes one injected error per
    // request, alternating REQUEST_TIMED_OUT and NOT_LEADER_OR_FOLLOWER); kafkajs's retries and the relay's
    // backoff use them up over tens of seconds, after which Kafka "returns" by itself.
    const OUTAGE_REQUESTS = 45;
    const pushed = await fetch(`${pipeline.kafkaCluster.controlUrl}/request-errors`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiKey: PRODUCE_API_KEY, errors: Array.from({ length: OUTAGE_REQUESTS }, (_, i) => (i % 2 ? NOT_LEADER_OR_FOLLOWER : REQUEST_TIMED_OUT)) }),
    });
    assert.equal(pushed.status, 200);
    const outageStarted = Date.now();

    const total = 300;
    const ids = Array.from({ length: total }, (_, i) => `OUTAGE-${String(i).padStart(4, '0')}`);
    const clients = await Promise.all([0, 1, 2, 3].map(() => pipeline.mllpClient({ responseTimeoutMs: 30000 })));
    await Promise.all(clients.map(async (c, k) => {
      for (let i = k; i < total; i += clients.length) {
        const m = i % 3 === 0 ? oruMessage({ controlId: ids[i], mrn: `MRN-O-${i % 50}`, flag: 'HH' }) : adtMessage({ controlId: ids[i], mrn: `MRN-O-${i % 50}` });
        const ack = (await c.send(m)).toString('utf8');
        assert.match(ack, new RegExp(`MSA\\|AA\\|${ids[i]}`), 'ACKed although Kafka is down');
      }
    }));
    await Promise.all(clients.map((c) => c.close()));

    const [{ n: waiting }] = await pipeline.query<{ n: number }>('SELECT count(*)::int AS n FROM cm_outbox');
    assert.ok(waiting > 0, 'events wait in the outbox');
    const backlog = await waitFor(async () => {
      const v = await pipeline.metric('clinmesh_outbox_backlog');
      return v > 0 ? v : undefined;
    }, { what: 'the outbox backlog gauge to rise', timeoutMs: 20000 });
    const publishedDuringOutage = ids.filter((id) => reader.byControlId(id).length > 0).length;
    assert.ok(publishedDuringOutage < total, `not everything got through during the outage (${publishedDuringOutage}/${total} did)`);

    await waitFor(() => ids.every((id) => reader.byControlId(id).length > 0), { what: `all ${total} events after Kafka returned`, timeoutMs: 300000, intervalMs: 500 });
    const outageSeconds = Math.round((Date.now() - outageStarted) / 1000);
    await reader.readEverythingPublished(pipeline);
    const byControl = eventIdsByControlId();
    for (const id of ids) assert.equal(byControl.get(id)?.size, 1, `${id}: exactly one event`);
    const raw = reader.records.filter((r) => r.value.controlId.startsWith('OUTAGE-')).length;
    // Reported, not asserted: re-deliveries of one event id are allowed by the at-least-once relay; consumers dedupe.
    console.log(`outage: ~${outageSeconds} s until all published, backlog gauge ${backlog}, published during outage ${publishedDuringOutage}/${total}, records ${raw} for ${total} events`);
    // Critical results stayed stat through the outage.
    assert.ok(ids.filter((_, i) => i % 3 === 0).every((id) => reader.byControlId(id)[0].topic === 'clinical.ingested.stat'));
  });

  it('after a SIGKILL mid-stream, every message that got AA is published exactly once, and re-sends are duplicates', async () => {
    const acked = new Set<string>();
    const unanswered = new Set<string>();
    let killed = false;
    const connections: MllpClient[] = await Promise.all([0, 1, 2, 3].map(() => pipeline.mllpClient({ responseTimeoutMs: 30000 })));
    const stream = Promise.all(connections.map(async (c, k) => {
      for (let i = 0; i < 10_000 && !killed; i++) {
        const id = `KILL-${k}-${String(i).padStart(5, '0')}`;
        let ack: string;
        try {
          ack = (await c.send(adtMessage({ controlId: id, mrn: `MRN-K-${i % 40}` }))).toString('utf8');
        } catch (error) {
          // Only a dropped connection means "in flight when killed"; anything else is a failure of the test.
          if (!(error instanceof MllpClientError)) throw error;
          unanswered.add(id); // the connection died with this message in flight: the sender does not know
          return;
        }
        assert.match(ack, new RegExp(`MSA\\|AA\\|${id}(\\||\\r)`), `${id} answered AA`);
        acked.add(id);
      }
    }));
    await waitFor(() => acked.size >= 200, { what: '200 ACKs before the kill', timeoutMs: 120000, intervalMs: 10 });
    await pipeline.processes.ingest.kill('SIGKILL');
    killed = true;
    await stream;
    const ackedAtKill = acked.size;
    assert.ok(unanswered.size >= 1 && unanswered.size <= connections.length, `at most one message in flight per connection (${unanswered.size})`);
    pipeline.processes.ingest.start();
    await pipeline.waitReady();

    // What a sender does after a dropped connection: re-send what was not acknowledged. Whatever was committed
    // before the kill is now a duplicate (answered with the ACK stored then); the rest is accepted now.
    const committed = new Map((await pipeline.query<{ control_id: string; ack: string }>(
      'SELECT control_id, ack FROM in_message WHERE control_id = ANY($1::text[])', [[...unanswered]])).map((r) => [r.control_id, r.ack]));
    const resend = await pipeline.mllpClient({ responseTimeoutMs: 30000 });
    for (const id of unanswered) {
      const i = Number(id.split('-')[2]);
      const ack = (await resend.send(adtMessage({ controlId: id, mrn: `MRN-K-${i % 40}` }))).toString('utf8');
      if (committed.has(id)) assert.equal(ack, committed.get(id), `${id} was committed before the kill: its original ACK`);
      else assert.match(ack, new RegExp(`MSA\\|AA\\|${id}(\\||\\r)`));
    }
    await resend.close();
    const everything = [...acked, ...unanswered];
    await waitFor(() => everything.every((id) => reader.byControlId(id).length > 0), { what: `${everything.length} events after the restart`, timeoutMs: 240000, intervalMs: 500 });
    await reader.readEverythingPublished(pipeline);
    const byControl = eventIdsByControlId();
    for (const id of everything) assert.equal(byControl.get(id)?.size, 1, `${id}: exactly one event`);
    const [{ n, d }] = await pipeline.query<{ n: number; d: number }>(`SELECT count(*)::int AS n, count(DISTINCT control_id)::int AS d FROM in_message WHERE control_id LIKE 'KILL-%'`);
    assert.deepEqual({ n, d }, { n: everything.length, d: everything.length });
    console.log(`kill: ${ackedAtKill} ACKed before SIGKILL, ${unanswered.size} in flight re-sent (${committed.size} of them committed before the kill), ${everything.length} events exactly once`);
  });
  it('on SIGTERM closes intake first: HTTP intake answers 503 with Retry-After, MLLP takes no new connections, frames already received are answered, and nothing is lost', async () => {
    // A peer that keeps its side open when the server ends the connection (half-open): closing intake waits
    // for it (up to the server's grace), which keeps the closed intake observable here.
    const lingering = net.connect({ host: '127.0.0.1', port: pipeline.mllpPort, allowHalfOpen: true });
    await new Promise<void>((r) => lingering.once('connect', () => r()));
    const decoder = new MllpFrameDecoder();
    const lingeringAnswers: string[] = [];
    let lingeringEnded = false;
    decoder.on('frame', (f) => lingeringAnswers.push(f.toString('utf8')));
    lingering.on('data', (c) => decoder.push(c));
    lingering.on('end', () => { lingeringEnded = true; });
    lingering.on('error', () => undefined);
    lingering.write(encodeMllpFrame(adtMessage({ controlId: 'STOP-LINGER', mrn: 'MRN-STOP' })));
    await waitFor(() => lingeringAnswers.length === 1, { what: 'the lingering peer\'s ACK' });
    assert.match(lingeringAnswers[0], /MSA\|AA\|STOP-LINGER/);

    const exited = pipeline.processes.ingest.kill('SIGTERM', 60000);
    // Keep sending over HTTP until intake is closed: what got in before is accepted (and must not be lost).
    const acceptedBeforeClose: string[] = [];
    let n = 0;
    const refused = await waitFor(async () => {
      const id = `STOP-H-${n++}`;
      const r = await pipeline.sendHl7(adtMessage({ controlId: id, mrn: 'MRN-STOP' }));
      if (r.status === 200) acceptedBeforeClose.push(id);
      return r.status === 503 ? { id, r } : undefined;
    }, { what: 'HTTP intake answering 503 after SIGTERM', timeoutMs: 30000, intervalMs: 10 });
    assert.match(refused.r.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal(refused.r.headers.get('retry-after'), '30');
    const problem = JSON.parse(refused.r.ack);
    assert.equal(problem.code, 'INGEST.INTAKE_CLOSED');
    assert.equal(problem.status, 503);
    const fhir = await pipeline.request('POST', '/v1/fhir', { resourceType: 'Basic', id: 'stop-1', code: { text: 'x' } }, { 'content-type': 'application/fhir+json' });
    assert.equal(fhir.status, 503);
    assert.equal(fhir.headers.get('retry-after'), '30');
    assert.equal(fhir.json().resourceType, 'OperationOutcome');
    assert.equal(fhir.json().issue[0].code, 'transient');
    // MLLP: the listener no longer accepts connections.
    const mllpOutcome = await new Promise<string>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: pipeline.mllpPort });
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      s.once('close', () => resolve('closed'));
    });
    assert.ok(['ECONNREFUSED', 'ECONNRESET', 'closed'].includes(mllpOutcome), `new MLLP connection: ${mllpOutcome}`);
    // The server ended the lingering connection after answering what it had received.
    await waitFor(() => lingeringEnded, { what: 'the server to end the lingering MLLP connection', timeoutMs: 30000 });
    lingering.destroy();
    await exited;

    pipeline.processes.ingest.start();
    await pipeline.waitReady();
    const kept = await pipeline.query<{ control_id: string }>(`SELECT control_id FROM in_message WHERE control_id LIKE 'STOP-%'`);
    assert.deepEqual(kept.map((r) => r.control_id).sort(), ['STOP-LINGER', ...acceptedBeforeClose].sort(), 'what was accepted is stored; the refused one is not');
    const published = ['STOP-LINGER', ...acceptedBeforeClose];
    await waitFor(() => published.every((id) => reader.byControlId(id).length > 0), { what: 'every accepted message published after the restart', timeoutMs: 120000, intervalMs: 200 });
    await reader.readEverythingPublished(pipeline);
    for (const id of published) assert.equal(new Set(reader.byControlId(id).map((r) => r.value.eventId)).size, 1, `${id}: one event`);
    assert.equal(reader.byControlId(refused.id).length, 0, 'the refused message was not published');
  });
});
