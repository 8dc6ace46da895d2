import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Consumer } from 'kafkajs';
// The second, independent Avro implementation (Apache's avro-js): it gets only the schema the registry returns for the id.
// Its core module is loaded directly: avro-js 1.12.2's index.js also loads a deprecated validator that requires
// `underscore`, which the package does not declare.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const avroJs: { createType(schema: unknown): { fromBuffer(buf: Buffer): any } } = require('avro-js/lib/schemas');
import { DEFAULT_TERMINOLOGY } from '@clinmesh/canonical';
import { TIERS, stageTopic } from '@clinmesh/topology';
import { TestPipeline, waitFor } from '@clinmesh/testing';

/**
 * Issues #5 and #10 on the six real services: a consumer that is not ours
 * decodes the canonical topics with avro-js and the registry's schema only;
 * unmapped codes are kept, counted and listed; after a terminology map change
 * a replay re-emits corrected records under the same canonical ids; VXU OBX
 * observations link to the immunisation, SCH-11 timing, and the FHIR read API.
 */
describe('normalization: canonical topics, unmapped codes, replay after a map change', { timeout: 600_000 }, () => {
  let pipeline: TestPipeline;
  let consumer: Consumer;
  const mapDir = mkdtempSync(join(tmpdir(), 'clinmesh-terminology-'));
  const mapFile = join(mapDir, 'terminology.json');
  const seen: Array<{ topic: string; key: string | null; schemaId: number; decoded: any }> = [];
  const schemas = new Map<number, { fromBuffer(buf: Buffer): any }>();

  const registryHeaders = () => ({ authorization: `Basic ${Buffer.from(pipeline.env.registryBasicAuth).toString('base64')}` });
  const decoderFor = async (id: number) => {
    if (!schemas.has(id)) {
      const res = await fetch(`${pipeline.env.registryUrl}/schemas/ids/${id}`, { headers: registryHeaders() });
      assert.equal(res.status, 200);
      schemas.set(id, avroJs.createType(JSON.parse(((await res.json()) as { schema: string }).schema)));
    }
    return schemas.get(id)!;
  };

  before(async () => {
    writeFileSync(mapFile, JSON.stringify(DEFAULT_TERMINOLOGY));
    pipeline = await TestPipeline.start('normalization', { perService: { normalization: { NORMALIZATION_TERMINOLOGY_MAP_FILE: mapFile, NORMALIZATION_SENDER_TIME_ZONES: '{"E2ELAB": "America/Chicago"}' } } });
    consumer = pipeline.kafka().consumer({ groupId: `analytics-${Date.now()}`, sessionTimeout: 6000, heartbeatInterval: 500 });
    await consumer.connect();
    await consumer.subscribe({ topics: TIERS.map((t) => stageTopic('canonical', t)), fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        const value = message.value!;
        assert.equal(value[0], 0, 'Confluent wire format');
        const schemaId = value.readInt32BE(1);
        seen.push({ topic, key: message.key?.toString() ?? null, schemaId, decoded: (await decoderFor(schemaId)).fromBuffer(value.subarray(5)) });
      },
    });
  });
  after(async () => {
    await consumer?.disconnect();
    await pipeline?.stop();
    rmSync(mapDir, { recursive: true, force: true });
  });

  const oru = (controlId: string) => [
    `MSH|^~\\&|E2ELAB|LAB|EHR|HOSP|20240301101500||ORU^R01|${controlId}|P|2.5.1`,
    'PID|1||MRN-NZ-1^^^HOSP^MR||DOE^JANE||19800102|F',
    'OBR|1|PL-NZ-1^EHR|FL-NZ-1^LAB|ZZGLU^Glucose^LOCAL|||20240301093000',
    'OBX|1|NM|ZZGLU^Glucose^LOCAL||182|mg/dl|70-105|H|||F|||20240301093000',
  ].join('\r');
  const canonicalFor = (correlationId: string) => seen.filter((s) => s.decoded.correlationId === correlationId);
  const unwrap = (u: any) => (u && typeof u === 'object' ? Object.values(u)[0] : u);

  it('publishes typed canonical records that avro-js decodes with only the registry schema; canonical subjects are BACKWARD_TRANSITIVE', async () => {
    const sent = await pipeline.sendHl7(oru('NZ-0001'));
    assert.equal(sent.status, 200, sent.ack);
    const [event] = await waitFor(() => (canonicalFor(sent.messageId!).length ? canonicalFor(sent.messageId!) : undefined), { what: 'the canonical event', timeoutMs: 90000 });
    const c = event.decoded;
    assert.equal(event.key, c.epid);
    assert.equal(c.resourceType, 'DiagnosticReport');
    assert.equal(c.provenance.sourceMessageType, 'ORU^R01');
    const obs = c.records.observations[0];
    assert.equal(obs.id.startsWith('obs-'), true);
    assert.equal(obs.code.codings[0].code, 'ZZGLU');
    assert.equal(obs.code.codings[0].unmapped, true);
    assert.equal(unwrap(obs.code.codings[0].unmappedReason), 'NO_MAP_ENTRY');
    assert.equal(unwrap(unwrap(obs.valueQuantity).ucum), 'mg/dL');
    const effective = unwrap(obs.effective);
    assert.equal(unwrap(effective.instant), Date.parse('2024-03-01T15:30:00Z'), 'local time resolved with the sender time zone');
    assert.equal(effective.offsetSource, 'SENDER_TIME_ZONE');
    // ZZGLU is both the order code (OBR-4 → ServiceRequest, DiagnosticReport) and the result code (OBX-3).
    assert.deepEqual(c.unmappedCodes.map((u: { element: string }) => u.element).sort(), ['DiagnosticReport.code', 'Observation.code', 'ServiceRequest.code']);
    for (const t of TIERS) {
      const res = await fetch(`${pipeline.env.registryUrl}/config/${stageTopic('canonical', t)}-value`, { headers: registryHeaders() });
      assert.equal(((await res.json()) as { compatibilityLevel: string }).compatibilityLevel, 'BACKWARD_TRANSITIVE');
    }
  });

  it('lists the unmapped code (canonical:read, audited) and counts it', async () => {
    const list = await pipeline.request('normalization', 'GET', '/v1/unmapped-codes');
    assert.equal(list.status, 200, list.text);
    const code = list.json().codes.find((x: { code: string; element: string }) => x.code === 'ZZGLU' && x.element === 'Observation.code');
    assert.deepEqual([code.sourceSystem, code.codeSystem, code.element, code.reason, code.status], ['E2ELAB', 'LOCAL', 'Observation.code', 'NO_MAP_ENTRY', 'open']);
    const forbidden = await fetch(`${pipeline.urls.normalization}/v1/unmapped-codes`, { headers: { authorization: `Bearer ${await pipeline.token(['tasks:read'])}` } });
    assert.equal(forbidden.status, 403);
    assert.ok((await pipeline.metric('normalization', 'clinmesh_canonical_unmapped_codes_total', { source: 'E2ELAB', reason: 'NO_MAP_ENTRY' })) >= 1);
  });

  it('after a terminology map change, a replay re-emits corrected records under the same canonical ids', async () => {
    const [first] = canonicalFor((await pipeline.query('ingest', `SELECT message_id FROM in_message WHERE control_id = 'NZ-0001'`))[0].message_id);
    const correlationId = first.decoded.correlationId as string;
    const data = JSON.parse(readFileSync(mapFile, 'utf8'));
    data.version = 'e2e-2';
    data.sources.E2ELAB = { LOCAL: { ZZGLU: { system: 'http://loinc.org', code: '2345-7', display: 'Glucose [Mass/volume] in Serum or Plasma' } } };
    writeFileSync(mapFile, JSON.stringify(data));
    const reload = await pipeline.request('normalization', 'POST', '/v1/terminology/reload');
    assert.equal(reload.status, 200, reload.text);
    assert.equal(reload.json().version, 'e2e-2');

    const replay = await pipeline.request('normalization', 'POST', '/v1/admin/replay', { tier: first.decoded.tier, to: 'earliest' });
    assert.equal(replay.status, 201, replay.text);
    const second = await waitFor(() => canonicalFor(correlationId).find((s) => s.decoded.eventId !== first.decoded.eventId), { what: 'the re-mapped canonical event', timeoutMs: 120000 });
    const c = second.decoded;
    assert.equal(c.canonicalId, first.decoded.canonicalId, 'same canonical id');
    assert.equal(c.records.observations[0].id, first.decoded.records.observations[0].id);
    const coding = c.records.observations[0].code.codings[0];
    assert.deepEqual([unwrap(coding.system), coding.code, coding.mapping, unwrap(coding.originalCode)], ['http://loinc.org', '2345-7', 'MAPPED', 'ZZGLU']);
    assert.equal(unwrap(c.supersedesEventId), first.decoded.eventId);
    assert.match(c.provenance.mappingVersion, /terminology:e2e-2$/);
    const converted = c.records.observations[0].convertedValues[0];
    assert.equal(converted.unit && unwrap(converted.unit), 'mmol/L', 'LOINC known now: glucose converted');

    const open = await pipeline.request('normalization', 'GET', '/v1/unmapped-codes?status=open');
    assert.equal(open.json().codes.some((x: { code: string }) => x.code === 'ZZGLU'), false);
    const resolved = await pipeline.request('normalization', 'GET', '/v1/unmapped-codes?status=resolved');
    assert.equal(resolved.json().codes.some((x: { code: string }) => x.code === 'ZZGLU'), true);
  });

  const vxu = (controlId: string) => [
    `MSH|^~\\&|E2EIZ|CLINIC|IIS|STATE|20261120120000||VXU^V04^VXU_V04|${controlId}|P|2.5.1`,
    'PID|1||MRN-NZ-2^^^HOSP^MR||ROE^ANNA||19750304|F',
    'ORC|RE||IMM-NZ-1^E2EIZ',
    'RXA|0|1|20261101||08^HepB^CVX|0.5|mL^mL^UCUM||00^New^NIP001||||||LOT9||MSD^Merck^MVX|||CP|A',
    'OBX|1|CE|64994-7^Vaccine funding program eligibility^LN|1|V02^VFC eligible - Medicaid^HL70064||||||F|||20261101',
    'OBX|2|DT|29769-7^Date VIS presented^LN|2|20261101||||||F|||20261101',
  ].join('\r');
  const siu = (controlId: string) => [
    `MSH|^~\\&|E2ESCHED|CLINIC|EHR|HOSP|20261120120000||SIU^S12|${controlId}|P|2.5.1`,
    'SCH|APT-NZ-1^E2ESCHED||||||||||^^30^20261125140000-0500^20261125143000-0500^R|||||||||||||Booked',
    'PID|1||MRN-NZ-3^^^HOSP^MR||POE^EDGAR^A||19690119|M',
  ].join('\r');

  let immunizationId = '';
  let observationIds: string[] = [];
  let epid = '';

  it('VXU OBX segments become observations linked to the immunisation; an SIU with its start only in SCH-11 carries start and end', async () => {
    const sentVxu = await pipeline.sendHl7(vxu('NZ-VXU-1'));
    assert.equal(sentVxu.status, 200, sentVxu.ack);
    const sentSiu = await pipeline.sendHl7(siu('NZ-SIU-1'));
    assert.equal(sentSiu.status, 200, sentSiu.ack);
    const [v] = await waitFor(() => (canonicalFor(sentVxu.messageId!).length ? canonicalFor(sentVxu.messageId!) : undefined), { what: 'the VXU canonical event', timeoutMs: 90000 });
    const imm = v.decoded.records.immunizations[0];
    immunizationId = imm.id;
    epid = v.decoded.epid;
    const obs = v.decoded.records.observations;
    assert.deepEqual(obs.map((o: any) => o.code.codings[0].code), ['64994-7', '29769-7']);
    assert.deepEqual(obs.map((o: any) => unwrap(o.partOfId)), [imm.id, imm.id]);
    assert.deepEqual(obs.map((o: any) => unwrap(o.partOfType)), ['Immunization', 'Immunization']);
    observationIds = obs.map((o: any) => o.id);

    const [a] = await waitFor(() => (canonicalFor(sentSiu.messageId!).length ? canonicalFor(sentSiu.messageId!) : undefined), { what: 'the SIU canonical event', timeoutMs: 90000 });
    const appt = a.decoded.records.appointments[0];
    assert.equal(new Date(unwrap(unwrap(appt.start).instant)).toISOString(), '2026-11-25T19:00:00.000Z');
    assert.equal(new Date(unwrap(unwrap(appt.end).instant)).toISOString(), '2026-11-25T19:30:00.000Z');
  });

  it('serves the published records as FHIR R4 at GET /fhir/{type}/{id} (canonical:read, audited, ETag; errors are OperationOutcomes)', async () => {
    assert.ok(immunizationId, 'needs the VXU of the previous test');
    const imm = await pipeline.request('normalization', 'GET', `/fhir/Immunization/${immunizationId}`, undefined, { 'x-purpose-of-use': 'TREAT' });
    assert.equal(imm.status, 200, imm.text);
    assert.match(imm.headers.get('content-type') ?? '', /^application\/fhir\+json/);
    assert.equal(imm.headers.get('etag'), 'W/"1"');
    const resource = imm.json();
    assert.deepEqual([resource.resourceType, resource.id, resource.vaccineCode.coding[0].code, resource.occurrenceDateTime, resource.lotNumber],
      ['Immunization', immunizationId, '08', '2026-11-01', 'LOT9']);
    const obs = await pipeline.request('normalization', 'GET', `/fhir/Observation/${observationIds[0]}`);
    assert.equal(obs.status, 200, obs.text);
    assert.deepEqual(obs.json().partOf, [{ reference: `Immunization/${immunizationId}` }]);
    assert.equal(obs.json().valueCodeableConcept.coding[0].code, 'V02');

    const outcome = (r: { status: number; headers: Headers; text: string }, status: number, code: string) => {
      assert.equal(r.status, status, r.text);
      assert.match(r.headers.get('content-type') ?? '', /^application\/fhir\+json/);
      const body = JSON.parse(r.text);
      assert.equal(body.resourceType, 'OperationOutcome');
      assert.equal(body.issue[0].code, code);
    };
    outcome(await pipeline.request('normalization', 'GET', '/fhir/Immunization/imm-00000000000000000000000000000000'), 404, 'not-found');
    outcome(await pipeline.request('normalization', 'GET', `/fhir/Observation/${immunizationId}`), 404, 'not-found');
    outcome(await pipeline.request('normalization', 'GET', '/fhir/Basic/x1'), 404, 'not-found');
    const anonymous = await fetch(`${pipeline.urls.normalization}/fhir/Immunization/${immunizationId}`);
    outcome({ status: anonymous.status, headers: anonymous.headers, text: await anonymous.text() }, 401, 'security');
    const wrongScope = await fetch(`${pipeline.urls.normalization}/fhir/Immunization/${immunizationId}`, { headers: { authorization: `Bearer ${await pipeline.token(['tasks:read'])}` } });
    outcome({ status: wrongScope.status, headers: wrongScope.headers, text: await wrongScope.text() }, 403, 'security');

    const audit = await pipeline.query('normalization', `SELECT resource, patient_ref, purpose, outcome FROM cm_audit WHERE action = 'fhir-read' ORDER BY seq`);
    assert.deepEqual(audit.map((r) => [r.resource, r.outcome]), [
      [`Immunization/${immunizationId}`, 'allowed'], [`Observation/${observationIds[0]}`, 'allowed'],
      ['Immunization/imm-00000000000000000000000000000000', 'error'], [`Observation/${immunizationId}`, 'error'], ['Basic/x1', 'error'],
    ]);
    assert.equal(audit[0].patient_ref, epid);
    assert.equal(audit[0].purpose, 'TREAT');
  });
});
