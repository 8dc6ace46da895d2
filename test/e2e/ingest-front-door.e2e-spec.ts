import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeMllpFrame } from '@clinmesh/hl7v2';
import { IngestPipeline, IngestedTopicReader, adtMessage, hl7Batch, mshField, oruMessage, waitFor, withMshField } from '@clinmesh/testing';

const SHARED = join(__dirname, '..', '..', '..', '..', 'shared', 'fixtures');
const HL7_DIR = join(SHARED, 'hl7v2');
const FHIR_DIRS = [join(SHARED, 'hl7v2-fhir-expected'), join(SHARED, 'fhir-r4')];

/**
 * The tier each fixture must get, written from the documented triage rules
 * (apps/ingest/README.md): ADT movements, merges, new orders/referrals and
 * abnormal results urgent; other ADT, normal results, documents, scheduling
 * and everything else routine. None of the fixtures carries a critical flag.
 */
const URGENT = new Set([
  'ADT-A01-01', 'ADT-A02-01', 'ADT-A03-01', 'ADT-A04-01', 'ADT-A06-01', 'ADT-A07-01', 'ADT-A11-01', 'ADT-A13-01', 'ADT-A15-01', 'ADT-A16-01',
  'ADT01-23', 'ADT04-23', 'ADT04-28', 'ADT-A40-01', 'ADT-A41-01', 'ADT-A47-01',
  'LAB-ORM-1', 'MDHHS-OML-O21-1', 'OMG-O19-01', 'OML-O21-01', 'OML-O21-03', 'ORM-O01-02', 'ORM-O01-04', 'ORM-O01-06', 'RDE-O11-01', 'RDE-O25-01',
  'REF-I12-01', 'REF-I14-01', 'ORU-R01-RMGEAD', 'OUL-R22-02', 'OUL-R23-02', 'OUL-R24-02',
]);

/**
 * What MLLP answers per MSH-15/16 (enhanced mode), for the fixtures that ask
 * for it; every other fixture is in original mode and gets AA.
 * - MSH-15 AL → the accept (commit) ACK, CA.
 * - MSH-15 NE/ER with MSH-16 AL → no accept ACK on success; the application ACK, AA.
 * - MSH-15 NE, MSH-16 NE → nothing at all.
 */
const MLLP_REPLY: Record<string, 'CA' | 'AA' | 'none'> = {
  'MDHHS-OML-O21-1': 'CA', // AL / AL
  'MDM-T02-03': 'CA', // AL / (empty → AL)
  'OUL-R22-02': 'AA', 'OUL-R23-02': 'AA', 'OUL-R24-02': 'AA', // NE / AL
  VXU: 'AA', // ER / AL
  'ADT-A40-01': 'none', // NE / NE
};


interface Sent { fixture: string; channel: 'MLLP' | 'HTTP'; controlId: string; bytes: Buffer; messageType: string; tier: string }

describe('ingest front door: real HL7 v2 and FHIR R4 over MLLP and HTTP', { timeout: 900_000 }, () => {
  let pipeline: IngestPipeline;
  let reader: IngestedTopicReader;
  const sent: Sent[] = [];

  before(async () => {
    pipeline = await IngestPipeline.start('ingest_front', {
      env: { INGEST_RATE_LIMIT_OVERRIDES: 'FLOODER=2:3,fhir-flooder=1:2', INGEST_MAX_BUNDLE_ENTRIES: '200' },
    });
    reader = new IngestedTopicReader(pipeline.kafka(), { url: pipeline.env.registryUrl, auth: pipeline.env.registryAuth });
    await reader.start();
  });
  after(async () => {
    await reader?.stop();
    await pipeline?.stop();
  });

  it('accepts every HL7 v2 fixture over MLLP and over HTTP, one ingested event each with its type, control id and tier', async () => {
    const files = readdirSync(HL7_DIR).filter((f) => f.endsWith('.hl7')).sort();
    assert.ok(files.length >= 70, `fixtures found: ${files.length}`);
    // The fixtures reuse control ids (7 sender+id groups, e.g. AccMgr^1 / MSG00001), and the same
    // fixture over both channels would be a duplicate: each copy gets its own MSH-10, suffixed per channel.
    const mllp = await pipeline.mllpClient({ responseTimeoutMs: 30000 });
    for (const [i, file] of files.entries()) {
      const name = file.replace(/\.hl7$/, '');
      const original = readFileSync(join(HL7_DIR, file));
      const type = mshField(original, 9).split('^').slice(0, 2).join('^');
      const tier = URGENT.has(name) ? 'urgent' : 'routine';
      for (const channel of ['MLLP', 'HTTP'] as const) {
        const controlId = `${mshField(original, 10)}-${channel[0]}${i}`;
        const bytes = withMshField(original, 10, controlId);
        sent.push({ fixture: name, channel, controlId, bytes, messageType: type, tier });
        if (channel === 'MLLP') {
          const expected = MLLP_REPLY[name] ?? 'AA';
          if (expected === 'none') {
            mllp.writeRaw(encodeMllpFrame(bytes));
            continue;
          }
          const ack = (await mllp.send(bytes)).toString('utf8');
          assert.match(ack, new RegExp(`MSA\\|${expected}\\|${escapeRe(controlId)}(\\||\\r|$)`), `${file} over MLLP: ${ack}`);
        } else {
          const r = await pipeline.sendHl7(bytes);
          assert.equal(r.status, 200, `${file} over HTTP: ${r.ack}`);
          assert.match(r.ack, new RegExp(`MSA\\|AA\\|${escapeRe(controlId)}(\\||\\r|$)`), `${file} over HTTP: ${r.ack}`);
          assert.equal(r.tier, tier, `${file} tier`);
        }
      }
    }
    await mllp.close();

    const ids = new Set(sent.map((s) => s.controlId));
    await waitFor(() => sent.every((s) => reader.byControlId(s.controlId).length > 0),
      { what: `${sent.length} ingested events`, timeoutMs: 120000, intervalMs: 250 });
    await reader.readEverythingPublished(pipeline); // any duplicate would have been read by now
    assert.deepEqual(reader.decodeErrors, []);
    for (const s of sent) {
      const records = reader.byControlId(s.controlId);
      assert.equal(records.length, 1, `${s.fixture} via ${s.channel}: exactly one event`);
      const [{ topic, value, headers }] = records;
      assert.equal(value.messageType, s.messageType, `${s.fixture} type`);
      assert.equal(value.tier, s.tier, `${s.fixture} tier`);
      assert.equal(topic, `clinical.ingested.${s.tier}`);
      assert.equal(value.source.channel, s.channel);
      assert.equal(value.format, 'HL7V2');
      assert.ok(Buffer.from(value.raw).equals(s.bytes), `${s.fixture}: the raw bytes travel unchanged`);
      assert.equal(headers['clinmesh-tier'], s.tier);
    }
    assert.equal(reader.records.filter((r) => ids.has(r.value.controlId)).length, sent.length);

    // The message that asked for no ACK at all still has its application ACK on record.
    const a40 = sent.find((s) => s.fixture === 'ADT-A40-01' && s.channel === 'MLLP')!;
    const [row] = await pipeline.query(`SELECT message_id FROM in_message WHERE control_id = $1`, [a40.controlId]);
    const shown = await pipeline.request('GET', `/v1/messages/${row.message_id}`);
    assert.equal(shown.status, 200);
    assert.match(shown.json().ack, new RegExp(`MSA\\|AA\\|${escapeRe(a40.controlId)}`));
    assert.equal(shown.json().tier, 'urgent');
  });

  it('honours enhanced acknowledgement mode (MSH-15/16) over MLLP; HTTP always answers with the application ACK', async () => {
    const msg = (id: string, accept: string, app: string, type = 'ADT^A08^ADT_A01') =>
      withMshField(withMshField(withMshField(adtMessage({ controlId: id, mrn: 'MRN-ENH' }), 15, accept), 16, app), 9, type);
    const mllp = await pipeline.mllpClient({ responseTimeoutMs: 20000 });
    const reply = async (m: Buffer) => /MSA\|(\w\w)\|/.exec((await mllp.send(m)).toString('utf8'))![1];
    assert.equal(await reply(msg('ENH-1', 'AL', 'NE')), 'CA', 'accept ACK always → commit accept');
    assert.equal(await reply(msg('ENH-2', 'AL', 'AL')), 'CA', 'one answer per message on the connection: the accept ACK');
    assert.equal(await reply(msg('ENH-3', 'ER', 'AL')), 'AA', 'no accept ACK on success, application ACK always');
    assert.equal(await reply(msg('ENH-4', 'SU', 'NE')), 'CA');
    assert.equal(await reply(msg('ENH-5', 'AL', 'NE', 'ZZZ^Z01')), 'CR', 'unsupported type → commit reject');
    assert.equal(await reply(msg('ENH-6', 'ER', 'NE', 'ZZZ^Z01')), 'CR', 'errors wanted → commit reject');
    assert.equal(await reply(msg('ENH-7', 'NE', 'ER', 'ZZZ^Z01')), 'AR', 'no accept ACK; application errors wanted → AR');
    assert.equal(await reply(msg('ENH-1', 'AL', 'NE')), 'CA', 'a duplicate is acknowledged the same way');
    const changed = withMshField(msg('ENH-1', 'AL', 'NE'), 7, '20991231');
    assert.equal(await reply(changed), 'CA', 'new content under a used control id is a new message: committed');
    // NE/NE, and ER/NE on success: nothing is written; the next answer on the connection belongs to the next message.
    mllp.writeRaw(encodeMllpFrame(msg('ENH-8', 'NE', 'NE')));
    mllp.writeRaw(encodeMllpFrame(msg('ENH-9', 'ER', 'NE')));
    assert.match((await mllp.send(msg('ENH-11', 'ER', 'AL'))).toString('utf8'), /MSA\|AA\|ENH-11(\||\r)/);
    await mllp.close();
    const stored = await pipeline.query(`SELECT control_id, ack FROM in_message WHERE control_id LIKE 'ENH-%' ORDER BY control_id`);
    assert.deepEqual(stored.map((r) => r.control_id), ['ENH-1', 'ENH-1', 'ENH-11', 'ENH-2', 'ENH-3', 'ENH-4', 'ENH-8', 'ENH-9']);
    assert.ok(stored.every((r) => /MSA\|AA\|/.test(r.ack)), 'the application ACK is kept for every accepted message');
    const http = await pipeline.sendHl7(msg('ENH-10', 'AL', 'NE'));
    assert.match(http.ack, /MSA\|AA\|ENH-10/);
  });

  it('a resend of the same content is answered with the original ACK and publishes nothing; new content under a used control id is accepted, flagged and published', async () => {
    const first = sent.find((s) => s.channel === 'HTTP' && s.fixture === 'ADT-A01-01')!;
    const [original] = await pipeline.query(`SELECT message_id, ack FROM in_message WHERE control_id = $1`, [first.controlId]);
    const [publishedFirst] = reader.byControlId(first.controlId);
    assert.equal(publishedFirst.value.correlationId, original.message_id);

    // The same bytes again, over HTTP and over MLLP: a duplicate, acknowledged with the original ACK.
    const again = await pipeline.sendHl7(first.bytes);
    assert.equal(again.status, 200);
    assert.equal(again.ack, original.ack, 'the original ACK, byte for byte');
    assert.equal(again.messageId, original.message_id);
    const mllp = await pipeline.mllpClient({ responseTimeoutMs: 20000 });
    assert.equal((await mllp.send(first.bytes)).toString('utf8'), original.ack, 'over MLLP too');
    // Marker: the same patient (same key, so the same partition) and tier, sent after the resends. The relay
    // publishes in commit order per key, so anything the resends had emitted would be read before it.
    const marker1 = withMshField(first.bytes, 10, `${first.controlId}-MARK1`);
    assert.match((await mllp.send(marker1)).toString('utf8'), /MSA\|AA\|/);
    await waitFor(() => reader.byControlId(`${first.controlId}-MARK1`).length === 1, { what: 'the first marker event', timeoutMs: 60000, intervalMs: 50 });
    assert.equal(reader.byControlId(first.controlId).length, 1, 'the resends published nothing');
    assert.equal(reader.byControlId(`${first.controlId}-MARK1`)[0].partition, publishedFirst.partition, 'the marker shares the partition');

    // Other content under the same control id (the sender rebuilt it with a new MSH-7): a new message.
    const changed = withMshField(first.bytes, 7, '20991231235959');
    const reused = await pipeline.sendHl7(changed);
    assert.equal(reused.status, 200, reused.ack);
    assert.match(reused.ack, new RegExp(`MSA\\|AA\\|${escapeRe(first.controlId)}(\\||\\r|$)`));
    assert.ok(reused.messageId && reused.messageId !== original.message_id, 'a message of its own');
    const shown = await pipeline.request('GET', `/v1/messages/${reused.messageId}`);
    assert.equal(shown.status, 200);
    assert.deepEqual(shown.json().flags, ['control-id-reuse']);
    const listed = await pipeline.request('GET', `/v1/messages?controlId=${encodeURIComponent(first.controlId)}`);
    assert.deepEqual(listed.json().messages.map((m: { messageId: string; flags: string[] }) => [m.messageId, m.flags]),
      [[original.message_id, []], [reused.messageId, ['control-id-reuse']]]);
    await waitFor(() => reader.byControlId(first.controlId).length === 2, { what: 'the reused control id published', timeoutMs: 60000, intervalMs: 50 });
    const events = reader.byControlId(first.controlId);
    assert.deepEqual(events.map((r) => r.value.correlationId), [original.message_id, reused.messageId]);
    assert.notEqual(events[0].value.eventId, events[1].value.eventId, 'distinct event ids');
    assert.ok(Buffer.from(events[1].value.raw).equals(changed), 'the new content travels');

    // Its own resend is its duplicate (the original ACK of the reused message), and again publishes nothing.
    const reusedAgain = await pipeline.sendHl7(changed);
    assert.equal(reusedAgain.ack, reused.ack);
    assert.equal(reusedAgain.messageId, reused.messageId);
    assert.match((await mllp.send(withMshField(first.bytes, 10, `${first.controlId}-MARK2`))).toString('utf8'), /MSA\|AA\|/);
    await mllp.close();
    await waitFor(() => reader.byControlId(`${first.controlId}-MARK2`).length === 1, { what: 'the second marker event', timeoutMs: 60000, intervalMs: 50 });
    assert.equal(reader.byControlId(first.controlId).length, 2, 'two messages, two events: nothing more');

    assert.equal(await pipeline.metric('clinmesh_ingest_control_id_reuse_total', { message_type: 'ADT^A01', channel: 'HTTP', format: 'HL7V2' }), 1);
    const [{ n }] = await pipeline.query(`SELECT count(*)::int AS n FROM in_rejection WHERE control_id = $1`, [first.controlId]);
    assert.equal(n, 0, 'nothing was refused');
  });

  it('FHIR: the same payload again is a duplicate (200), a new payload under a used id is accepted (202), flagged and published', async () => {
    const token = await pipeline.token(undefined, 'fhir-reuser');
    const post = (body: unknown) => pipeline.request('POST', '/v1/fhir', body, { 'content-type': 'application/fhir+json', authorization: `Bearer ${token}` });
    const a = { resourceType: 'Basic', id: 'reuse-1', code: { text: 'first' } };
    const first = await post(a);
    assert.equal(first.status, 202, first.text);
    const repeat = await post(a);
    assert.equal(repeat.status, 200);
    assert.equal(repeat.headers.get('x-clinmesh-message-id'), first.headers.get('x-clinmesh-message-id'));
    const changed = await post({ ...a, code: { text: 'second' } });
    assert.equal(changed.status, 202, changed.text);
    const changedId = changed.headers.get('x-clinmesh-message-id')!;
    assert.notEqual(changedId, first.headers.get('x-clinmesh-message-id'));
    assert.deepEqual((await pipeline.request('GET', `/v1/messages/${changedId}`)).json().flags, ['control-id-reuse']);
    const eventsOf = () => reader.records.filter((r) => r.value.format === 'FHIR_R4' && r.value.source.system === 'fhir-reuser');
    await waitFor(() => eventsOf().length === 2, { what: 'both FHIR messages published', timeoutMs: 60000, intervalMs: 50 });
    await reader.readEverythingPublished(pipeline);
    assert.deepEqual(eventsOf().map((r) => r.value.correlationId).sort(), [first.headers.get('x-clinmesh-message-id'), changedId].sort());
    assert.equal(await pipeline.metric('clinmesh_ingest_control_id_reuse_total', { sender: 'fhir-reuser', format: 'FHIR_R4' }), 1);
  });

  it('accepts every FHIR R4 bundle of the shared fixtures over POST /v1/fhir, one event each', async () => {
    const bundles: Array<{ file: string; id: string | undefined; type: string; body: Buffer; sender?: string; controlId?: string }> = [];
    let notFhir: string[] = [];
    for (const dir of FHIR_DIRS) {
      for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
        const body = readFileSync(join(dir, file));
        const json = JSON.parse(body.toString('utf8').replace(/^\uFEFF/, ''));
        if (json.resourceType !== 'Bundle') {
          notFhir = [...notFhir, file];
          continue;
        }
        bundles.push({ file, id: json.id, type: json.type, body });
      }
    }
    assert.ok(bundles.length >= 68, `bundles: ${bundles.length}`);
    const eventsOf = (b: (typeof bundles)[number]) => reader.byControlId(b.controlId!).filter((r) => r.value.format === 'FHIR_R4' && r.value.source.system === b.sender);
    // FHIR-Converter derives Bundle ids from MSH-10, so fixtures share ids (e.g. every MSG00001 message); from one
    // sender they would be control-id reuses (accepted, flagged). Each fixture is posted by its own client (token), bytes
    // unchanged, so every event is found by its sender and id and none is flagged.
    for (const [n, b] of bundles.entries()) {
      const token = await pipeline.token(undefined, `fhir-fixture-${n}`);
      const r = await pipeline.request('POST', '/v1/fhir', b.body, { 'content-type': 'application/fhir+json', authorization: `Bearer ${token}` });
      assert.equal(r.status, 202, `${b.file}: ${r.text.slice(0, 500)}`);
      const outcome = r.json();
      assert.equal(outcome.resourceType, 'OperationOutcome');
      const messageId = r.headers.get('x-clinmesh-message-id')!;
      const [row] = await pipeline.query(`SELECT control_id, message_type, format FROM in_message WHERE message_id = $1`, [messageId]);
      assert.equal(row.message_type, `Bundle/${b.type}`);
      assert.equal(row.format, 'FHIR_R4');
      b.controlId = row.control_id;
      b.sender = `fhir-fixture-${n}`;
      // Paced: one patient's ~200 KB Bundles all land on one partition, and the embedded mock cluster keeps only
      // the newest ~5 MB of a partition — a reader that falls that far behind would lose records (not so in Kafka).
      await waitFor(() => eventsOf(b).length > 0, { what: `the event of ${b.file}`, timeoutMs: 60000, intervalMs: 20 });
      if (b.file === 'ADT01-23.json') {
        // FHIR-Converter omits Provenance.agent (min 1): accepted under the default `warning` policy, and said so.
        assert.ok(outcome.issue.some((i: { severity: string; expression?: string[] }) => i.severity === 'warning' && i.expression?.[0] === 'Bundle.entry[12].resource.agent'), r.text);
      }
    }
    // ExamplePatient.json is not FHIR (no resourceType: a custom JSON sample); it is refused with the location of the problem.
    assert.deepEqual(notFhir, ['ExamplePatient.json']);
    const refused = await pipeline.request('POST', '/v1/fhir', readFileSync(join(SHARED, 'fhir-r4', 'ExamplePatient.json')), { 'content-type': 'application/fhir+json' });
    assert.equal(refused.status, 422);
    assert.deepEqual(refused.json().issue.map((i: { expression: string[] }) => i.expression[0]), ['resourceType']);

    await waitFor(() => bundles.every((b) => eventsOf(b).length > 0), { what: `${bundles.length} FHIR ingested events`, timeoutMs: 120000, intervalMs: 250 }).catch(async (error) => {
      const fhir = reader.records.filter((r) => r.value.format === 'FHIR_R4');
      const missing = bundles.filter((b) => eventsOf(b).length === 0).map((b) => `${b.file}(${b.sender},${b.controlId})`);
      const [{ n }] = await pipeline.query('SELECT count(*)::int AS n FROM cm_outbox');
      throw new Error(`${(error as Error).message}: ${fhir.length} FHIR records read, outbox ${n}, decode errors ${reader.decodeErrors.length}, missing ${missing.slice(0, 5).join(' ')}; seen ${fhir.slice(0, 3).map((r) => `${r.value.source.system},${r.value.controlId}`).join(' ')}`);
    });
    await reader.readEverythingPublished(pipeline);
    for (const b of bundles) {
      const records = eventsOf(b);
      assert.equal(records.length, 1, `${b.file}: exactly one event`);
      assert.equal(records[0].value.messageType, `Bundle/${b.type}`);
      assert.ok(Buffer.from(records[0].value.raw).equals(b.body));
    }
  });

  it('answers structural FHIR errors as one OperationOutcome naming each location, and keeps the rejection', async () => {
    const bad = {
      resourceType: 'Bundle', type: 'transaction',
      entry: [
        { resource: { resourceType: 'Observation', id: 'obs-1', valueString: '' }, request: { method: 'POST', url: 'Observation' } },
        { resource: { resourceType: 'Patient', birthDate: '1980-13-45', gender: 'M', name: [] } },
        { resource: { resourceType: 'Foo' }, request: { method: 'FETCH', url: 'Foo' } },
        { resource: { resourceType: 'Encounter', status: 'finished', class: { code: 'IMP' }, period: { start: null } }, request: { method: 'PUT' } },
      ],
    };
    const r = await pipeline.request('POST', '/v1/fhir', bad, { 'content-type': 'application/fhir+json' });
    assert.equal(r.status, 422, r.text);
    assert.match(r.headers.get('content-type') ?? '', /application\/fhir\+json/);
    const outcome = r.json();
    assert.equal(outcome.resourceType, 'OperationOutcome');
    const where = outcome.issue.map((i: { expression: string[] }) => i.expression[0]).sort();
    assert.deepEqual(where, [
      'Bundle.entry[0].resource.code', 'Bundle.entry[0].resource.status', 'Bundle.entry[0].resource.valueString',
      'Bundle.entry[1].request', 'Bundle.entry[1].resource.birthDate', 'Bundle.entry[1].resource.gender', 'Bundle.entry[1].resource.name',
      'Bundle.entry[2].request.method', 'Bundle.entry[2].resource.resourceType',
      'Bundle.entry[3].request.url', 'Bundle.entry[3].resource.period.start',
    ].sort());
    const kept = await pipeline.request('GET', '/v1/rejections?reason=INVALID_FHIR');
    assert.ok(kept.json().rejections.some((x: { detail: string }) => x.detail.includes('Bundle.entry[1].resource.birthDate')));

    const tooMany = { resourceType: 'Bundle', type: 'collection', entry: Array.from({ length: 201 }, (_, i) => ({ resource: { resourceType: 'Basic', id: `b${i}`, code: { text: 'x' } } })) };
    const big = await pipeline.request('POST', '/v1/fhir', tooMany, { 'content-type': 'application/fhir+json' });
    assert.equal(big.status, 413);
    assert.equal(big.json().issue[0].code, 'too-costly');
    assert.match(big.json().issue[0].diagnostics, /201 entries; the limit is 200/);
    const keptBig = await pipeline.request('GET', '/v1/rejections?reason=TOO_MANY_ENTRIES');
    assert.equal(keptBig.json().rejections.length, 1);
  });

  it('limits the request rate per sender: 429 + AR NAK with the reason over HTTP, AR over MLLP, 429 OperationOutcome for FHIR, each kept', async () => {
    const flood = (i: number) => adtMessage({ controlId: `FLOOD-${i}`, mrn: `MRN-F-${i}`, sendingApplication: 'FLOODER', facility: 'HOSP', trigger: 'A08' });
    const http = [];
    for (let i = 0; i < 5; i++) http.push(await pipeline.sendHl7(flood(i)));
    const ok = http.filter((r) => r.status === 200).length;
    assert.ok(ok >= 3 && ok <= 4, `burst of 3 (+ at most one refill): ${http.map((r) => r.status)}`);
    const limited = http.filter((r) => r.status === 429);
    assert.ok(limited.length >= 1);
    for (const r of limited) {
      assert.match(r.ack, /MSA\|AR\|FLOOD-\d/);
      assert.match(r.ack, /ERR\|\|[^|]*\|207\^Application internal error\^HL70357\|E\|\|\|\|sender FLOODER\\S\\HOSP exceeded its rate limit of 2 messages\/s/);
      assert.equal(r.headers.get('x-clinmesh-rejection-reason'), 'RATE_LIMITED');
      assert.ok(Number(r.headers.get('retry-after')) >= 1);
    }
    const mllp = await pipeline.mllpClient();
    const answers = [];
    for (let i = 10; i < 16; i++) answers.push((await mllp.send(flood(i))).toString('utf8'));
    await mllp.close();
    assert.ok(answers.some((a) => /MSA\|AR\|FLOOD-1\d/.test(a) && a.includes('exceeded its rate limit')), answers.join('\n'));

    const fhirToken = await pipeline.token(undefined, 'fhir-flooder');
    const fhirStatuses = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${pipeline.urls.ingest}/v1/fhir`, {
        method: 'POST', headers: { authorization: `Bearer ${fhirToken}`, 'content-type': 'application/fhir+json' },
        body: JSON.stringify({ resourceType: 'Basic', id: `flood-${i}`, code: { text: 'x' } }),
      });
      fhirStatuses.push(res.status);
      if (res.status === 429) {
        const body = await res.json() as { resourceType: string; issue: Array<{ code: string }> };
        assert.equal(body.resourceType, 'OperationOutcome');
        assert.equal(body.issue[0].code, 'throttled');
        assert.ok(Number(res.headers.get('retry-after')) >= 1);
      }
    }
    assert.ok(fhirStatuses.includes(429), `${fhirStatuses}`);

    const kept = (await pipeline.request('GET', '/v1/rejections?reason=RATE_LIMITED&limit=1000')).json().rejections as Array<{ sender: string; channel: string }>;
    assert.equal(kept.filter((k) => k.sender === 'FLOODER^HOSP' && k.channel === 'HTTP').length, limited.length);
    assert.equal(kept.filter((k) => k.sender === 'FLOODER^HOSP' && k.channel === 'MLLP').length, answers.filter((a) => a.includes('MSA|AR|')).length);
    assert.equal(kept.filter((k) => k.sender === 'fhir-flooder').length, fhirStatuses.filter((s) => s === 429).length);

    // A batch is one request: it takes one token of the batch header's sender (TESTEHR), and its messages —
    // from FLOODER, whose bucket is empty now — are not charged again.
    const batch = await pipeline.sendHl7(hl7Batch([0, 1, 2, 3, 4, 5].map((i) => adtMessage({ controlId: `FLOOD-B-${i}`, mrn: 'MRN-FB', sendingApplication: 'FLOODER', facility: 'HOSP' }))));
    assert.equal(batch.status, 200);
    assert.equal(batch.headers.get('x-clinmesh-batch-summary'), 'messages=6;accepted=6;rejected=0');
  });

  it('a batch file arriving while stat messages do gives way between its groups (paced, counted), and every message is still accepted', async () => {
    const stat = await pipeline.sendHl7(oruMessage({ controlId: 'PACE-STAT-1', mrn: 'MRN-PACE', flag: 'HH' }));
    assert.equal(stat.tier, 'stat');
    const before = await pipeline.metric('clinmesh_ingest_bulk_paced_seconds_total');
    const batch = await pipeline.sendHl7(hl7Batch(Array.from({ length: 40 }, (_, i) => adtMessage({ controlId: `PACE-B-${i}`, mrn: `MRN-PACE-${i}` }))));
    assert.equal(batch.status, 200);
    assert.equal(batch.headers.get('x-clinmesh-batch-summary'), 'messages=40;accepted=40;rejected=0');
    assert.ok(await pipeline.metric('clinmesh_ingest_bulk_paced_seconds_total') > before, 'the groups after the first paused behind the stat message');
  });

  it('counts every message by sender, message type, tier, channel and outcome in clinmesh_ingest_messages_total', async () => {
    const m = (labels: Record<string, string>) => pipeline.metric('clinmesh_ingest_messages_total', labels);
    assert.equal(await m({ outcome: 'accepted', channel: 'MLLP', message_type: 'SIU^S12' }), 2);
    assert.equal(await m({ outcome: 'accepted', channel: 'HTTP', message_type: 'SIU^S12', tier: 'routine' }), 2);
    assert.equal(await m({ outcome: 'accepted', sender: 'FLOODER^HOSP', message_type: 'ADT^A08', tier: 'routine' }),
      (await pipeline.query(`SELECT count(*)::int AS n FROM in_message WHERE sender = 'FLOODER^HOSP' AND message_type = 'ADT^A08'`))[0].n);
    assert.equal(await m({ outcome: 'accepted', sender: 'FLOODER^HOSP', message_type: 'ADT^A01', tier: 'bulk' }), 6);
    // ADT-A01-01 resent over HTTP and MLLP, then its reused-id message resent once.
    assert.equal(await m({ outcome: 'duplicate', message_type: 'ADT^A01', tier: 'urgent' }), 3);
    assert.equal(await m({ outcome: 'rejected', reason: 'DUPLICATE_CONFLICT' }), 0, 'new content is never refused as a duplicate');
    // ADT-A01-01 and ENH-1 reused over HL7 v2, reuse-1 over FHIR.
    assert.equal(await pipeline.metric('clinmesh_ingest_control_id_reuse_total'), 3);
    const [{ n: flagged }] = await pipeline.query(`SELECT count(*)::int AS n FROM in_message WHERE 'control-id-reuse' = ANY (flags)`);
    assert.equal(flagged, 3);
    const rateLimited = (await pipeline.query(`SELECT count(*)::int AS n FROM in_rejection WHERE reason = 'RATE_LIMITED'`))[0].n;
    assert.equal(await m({ outcome: 'rejected', reason: 'RATE_LIMITED' }), rateLimited);
    assert.equal(await m({ outcome: 'rejected', reason: 'INVALID_FHIR' }), 2);
    const [{ n: acceptedRows }] = await pipeline.query(`SELECT count(*)::int AS n FROM in_message`);
    assert.equal(await m({ outcome: 'accepted' }), acceptedRows, 'one accepted count per stored message');
  });
});

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
