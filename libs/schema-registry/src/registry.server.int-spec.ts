import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { createSchemaRegistryServer, SchemaRegistryServer } from './registry.server';

const PG_URL = process.env['CLINMESH_TEST_PG_URL'];
const auth = { username: 'registry-user', password: 'registry-pass:word' };
const authHeader = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;

const patientV1 = { type: 'record', name: 'PatientEvent', namespace: 'clinmesh.test', fields: [{ name: 'id', type: 'string' }, { name: 'tier', type: 'string' }] };
const patientV2 = { ...patientV1, fields: [...patientV1.fields, { name: 'mrn', type: ['null', 'string'], default: null }] };
const patientBad = { ...patientV1, fields: [...patientV1.fields, { name: 'epid', type: 'string' }] };
const schemaBody = (s: unknown, extra: Record<string, unknown> = {}) => ({ schema: JSON.stringify(s), ...extra });

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe('schema registry server (PostgreSQL, real Confluent client)', () => {
  let dbName: string;
  let dbUrl: string;
  let server: SchemaRegistryServer;
  let baseUrl: string;

  async function admin<T>(work: (c: Client) => Promise<T>): Promise<T> {
    const client = new Client({ connectionString: PG_URL });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }

  async function start(): Promise<void> {
    server = createSchemaRegistryServer({ databaseUrl: dbUrl, port: 0, auth });
    baseUrl = (await server.listen()).url;
  }

  async function call(method: string, path: string, body?: unknown, options: { auth?: string | null; contentType?: string } = {}): Promise<Reply> {
    const headers: Record<string, string> = {};
    const authorization = options.auth === undefined ? authHeader : options.auth;
    if (authorization) headers['authorization'] = authorization;
    if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/vnd.schemaregistry.v1+json';
    const res = await fetch(`${baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  }

  function expectError(reply: Reply, status: number, code: number): void {
    assert.equal(reply.status, status, reply.text);
    assert.equal(reply.json?.error_code, code, reply.text);
    assert.equal(typeof reply.json?.message, 'string');
  }

  before(async () => {
    if (!PG_URL) assert.fail('CLINMESH_TEST_PG_URL is not set: this integration test needs a PostgreSQL superuser URL (e.g. export CLINMESH_TEST_PG_URL=$(cat /tmp/devpg.txt))');
    dbName = `schema_registry_it_${process.pid}_${randomBytes(4).toString('hex')}`;
    await admin((c) => c.query(`CREATE DATABASE ${dbName}`));
    const url = new URL(PG_URL);
    url.pathname = `/${dbName}`;
    dbUrl = url.toString();
    await start();
  });

  after(async () => {
    await server?.close();
    if (PG_URL && dbName) await admin((c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
  });

  it('round-trips with @kafkajs/confluent-schema-registry (register, encode, decode, latest id)', async () => {
    const registry = new SchemaRegistry({ host: baseUrl, auth });
    const subject = 'clinical.canonical.stat-value';
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(patientV1) }, { subject });
    assert.ok(Number.isInteger(id) && id > 0);
    const again = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(patientV1) }, { subject });
    assert.equal(again.id, id, 're-registering the same schema returns its id');
    const payload = { id: 'p-1', tier: 'stat' };
    const encoded = await registry.encode(id, payload);
    assert.equal(encoded[0], 0, 'magic byte');
    assert.equal(encoded.readInt32BE(1), id, 'schema id in the wire format');
    // A fresh client (empty cache) must fetch the schema by id from the server.
    const fresh = new SchemaRegistry({ host: baseUrl, auth });
    assert.deepEqual({ ...(await fresh.decode(encoded)) }, payload);
    assert.equal(await fresh.getLatestSchemaId(subject), id);

    const v2 = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(patientV2) }, { subject });
    assert.notEqual(v2.id, id);
    assert.equal(await fresh.getLatestSchemaId(subject), v2.id);
    assert.equal(await fresh.getRegistryId(subject, 1), id);
    assert.equal(await fresh.getRegistryIdBySchema(subject, { type: SchemaType.AVRO, schema: JSON.stringify(patientV1) }), id);
    const decodedV2 = await fresh.decode(await registry.encode(v2.id, { ...payload, mrn: 'M1' }));
    assert.equal(decodedV2.mrn, 'M1');
    // The client sets BACKWARD on first registration; a breaking change is refused.
    await assert.rejects(registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(patientBad) }, { subject }), /incompatible/);
  });

  it('requires HTTP Basic credentials except on health endpoints', async () => {
    for (const credentials of [null, `Basic ${Buffer.from('registry-user:wrong').toString('base64')}`, 'Bearer x']) {
      const reply = await call('GET', '/subjects', undefined, { auth: credentials });
      expectError(reply, 401, 40101);
      assert.equal(reply.headers.get('www-authenticate'), 'Basic realm="schema-registry"');
    }
    expectError(await call('POST', '/subjects/x/versions', schemaBody('string'), { auth: null }), 401, 40101);
    for (const path of ['/health', '/health/live', '/health/ready']) assert.equal((await call('GET', path, undefined, { auth: null })).status, 200);
    const client = new SchemaRegistry({ host: baseUrl, auth: { username: auth.username, password: 'nope' } });
    await assert.rejects(client.getLatestSchemaId('clinical.canonical.stat-value'), (e: { status?: number }) => e.status === 401);
  });

  it('answers the basic read endpoints with Confluent shapes and codes', async () => {
    const root = await call('GET', '/');
    assert.equal(root.status, 200);
    assert.deepEqual(root.json, {});
    assert.equal(root.headers.get('content-type'), 'application/vnd.schemaregistry.v1+json');
    assert.deepEqual((await call('GET', '/schemas/types')).json, ['AVRO']);

    const subject = 'reads-value';
    const id1 = (await call('POST', `/subjects/${subject}/versions`, schemaBody(patientV1))).json.id;
    const id2 = (await call('POST', `/subjects/${subject}/versions`, schemaBody(patientV2))).json.id;
    assert.ok((await call('GET', '/subjects')).json.includes(subject));
    assert.deepEqual((await call('GET', `/subjects/${subject}/versions`)).json, [1, 2]);
    for (const v of ['latest', '-1', '2']) {
      const reply = await call('GET', `/subjects/${subject}/versions/${v}`);
      assert.deepEqual(reply.json, { subject, version: 2, id: id2, schema: JSON.stringify(patientV2) });
    }
    const raw = await call('GET', `/subjects/${subject}/versions/1/schema`);
    assert.deepEqual(raw.json, patientV1);
    assert.deepEqual((await call('GET', `/schemas/ids/${id1}`)).json, { schema: JSON.stringify(patientV1) });
    assert.deepEqual((await call('GET', `/schemas/ids/${id1}/schema`)).json, patientV1);
    // patientV2 is also version 2 of the subject the client test registered: one id, two subject versions.
    assert.deepEqual((await call('GET', `/schemas/ids/${id2}/versions`)).json, [
      { subject: 'clinical.canonical.stat-value', version: 2 },
      { subject, version: 2 },
    ]);
    assert.deepEqual((await call('GET', `/schemas/ids/${id2}/subjects`)).json, ['clinical.canonical.stat-value', subject]);

    expectError(await call('GET', '/subjects/missing-value/versions'), 404, 40401);
    expectError(await call('GET', '/subjects/missing-value/versions/1'), 404, 40401);
    expectError(await call('GET', `/subjects/${subject}/versions/9`), 404, 40402);
    for (const bad of ['0', 'abc', '-2']) expectError(await call('GET', `/subjects/${subject}/versions/${bad}`), 422, 42202);
    expectError(await call('GET', '/schemas/ids/999999'), 404, 40403);
    expectError(await call('GET', '/schemas/ids/999999/versions'), 404, 40403);
    expectError(await call('GET', '/no/such/route'), 404, 404);

    // Lookup
    const found = await call('POST', `/subjects/${subject}`, schemaBody(patientV1));
    assert.deepEqual(found.json, { subject, version: 1, id: id1, schema: JSON.stringify(patientV1) });
    expectError(await call('POST', '/subjects/missing-value', schemaBody(patientV1)), 404, 40401);
    expectError(await call('POST', `/subjects/${subject}`, schemaBody(patientBad)), 404, 40403);
  });

  it('dedupes by normalized form, reuses ids across subjects and validates input', async () => {
    const a = await call('POST', '/subjects/dedupe-a/versions', schemaBody(patientV1));
    const spaced = JSON.stringify({ namespace: 'clinmesh.test', name: 'PatientEvent', type: 'record', fields: patientV1.fields }, null, 2);
    const b = await call('POST', '/subjects/dedupe-b/versions', { schema: spaced }, { contentType: 'application/json' });
    assert.equal(a.status, 200);
    assert.equal(b.json.id, a.json.id, 'same schema under another subject keeps its global id');
    const c = await call('POST', '/subjects/dedupe-b/versions', { schema: spaced }, { contentType: 'application/vnd.schemaregistry+json' });
    assert.equal(c.json.id, a.json.id);
    assert.deepEqual((await call('GET', '/subjects/dedupe-b/versions')).json, [1]);

    expectError(await call('POST', '/subjects/bad-value/versions', { schema: '{"type":"record","name":"X","fields":[{"name":"a","type":"nope"}]}' }), 422, 42201);
    expectError(await call('POST', '/subjects/bad-value/versions', { schema: 'not json' }), 422, 42201);
    expectError(await call('POST', '/subjects/bad-value/versions', {}), 422, 42201);
    expectError(await call('POST', '/subjects/bad-value/versions', { schema: 'syntax = "proto3";', schemaType: 'PROTOBUF' }), 422, 42201);
    expectError(await call('POST', '/subjects/bad-value/versions', '{not json'), 400, 400);
    expectError(await call('POST', '/subjects/bad-value/versions', 'x', { contentType: 'text/plain' }), 415, 415);
  });

  it('refuses incompatible schemas with 409 naming the reason', async () => {
    await call('POST', '/subjects/compat-value/versions', schemaBody(patientV1));
    const reply = await call('POST', '/subjects/compat-value/versions', schemaBody(patientBad));
    expectError(reply, 409, 409);
    assert.match(reply.json.message, /^Schema being registered is incompatible with an earlier schema for subject "compat-value"/);
    assert.match(reply.json.message, /READER_FIELD_MISSING_DEFAULT_VALUE/);
    assert.match(reply.json.message, /'epid'/);
    assert.match(reply.json.message, /oldSchemaVersion: 1/);

    const check = await call('POST', '/compatibility/subjects/compat-value/versions/latest?verbose=true', schemaBody(patientBad));
    assert.equal(check.status, 200);
    assert.equal(check.json.is_compatible, false);
    assert.ok(check.json.messages.some((m: string) => m.includes('epid')));
    assert.deepEqual((await call('POST', '/compatibility/subjects/compat-value/versions/1', schemaBody(patientV2))).json, { is_compatible: true });
    assert.deepEqual((await call('POST', '/compatibility/subjects/compat-value/versions', schemaBody(patientV2))).json, { is_compatible: true });
    assert.deepEqual((await call('POST', '/compatibility/subjects/compat-value/versions?verbose=true', schemaBody(patientBad))).json.is_compatible, false);
    expectError(await call('POST', '/compatibility/subjects/compat-value/versions/7', schemaBody(patientV2)), 404, 40402);
    expectError(await call('POST', '/compatibility/subjects/nope-value/versions/1', schemaBody(patientV2)), 404, 40401);
    expectError(await call('POST', '/compatibility/subjects/compat-value/versions/zero', schemaBody(patientV2)), 422, 42202);
    expectError(await call('POST', '/compatibility/subjects/compat-value/versions/latest', { schema: '{' }), 422, 42201);

    // With the subject set to NONE the same change registers.
    assert.deepEqual((await call('PUT', '/config/compat-value', { compatibility: 'NONE' })).json, { compatibility: 'NONE' });
    assert.equal((await call('POST', '/subjects/compat-value/versions', schemaBody(patientBad))).status, 200);
  });

  it('manages global and subject compatibility config', async () => {
    assert.deepEqual((await call('GET', '/config')).json, { compatibilityLevel: 'BACKWARD' });
    expectError(await call('PUT', '/config', { compatibility: 'SIDEWAYS' }), 422, 42203);
    expectError(await call('GET', '/config/config-value'), 404, 40408);
    assert.deepEqual((await call('GET', '/config/config-value?defaultToGlobal=true')).json, { compatibilityLevel: 'BACKWARD' });
    assert.deepEqual((await call('PUT', '/config/config-value', { compatibility: 'full_transitive' })).json, { compatibility: 'FULL_TRANSITIVE' });
    assert.deepEqual((await call('GET', '/config/config-value')).json, { compatibilityLevel: 'FULL_TRANSITIVE' });
    assert.deepEqual((await call('DELETE', '/config/config-value')).json, { compatibilityLevel: 'FULL_TRANSITIVE' });
    expectError(await call('GET', '/config/config-value'), 404, 40408);
    assert.deepEqual((await call('PUT', '/config', { compatibility: 'FORWARD' })).json, { compatibility: 'FORWARD' });
    assert.deepEqual((await call('GET', '/config')).json, { compatibilityLevel: 'FORWARD' });
    assert.deepEqual((await call('DELETE', '/config')).json, { compatibilityLevel: 'FORWARD' });
    assert.deepEqual((await call('GET', '/config')).json, { compatibilityLevel: 'BACKWARD' });
  });

  it('soft and hard deletes versions and subjects with Confluent error codes', async () => {
    const s = 'delete-value';
    const id1 = (await call('POST', `/subjects/${s}/versions`, schemaBody(patientV1))).json.id;
    await call('POST', `/subjects/${s}/versions`, schemaBody(patientV2));
    expectError(await call('DELETE', `/subjects/${s}/versions/1?permanent=true`), 404, 40407);
    assert.equal((await call('DELETE', `/subjects/${s}/versions/1`)).json, 1);
    expectError(await call('DELETE', `/subjects/${s}/versions/1`), 404, 40406);
    expectError(await call('GET', `/subjects/${s}/versions/1`), 404, 40402);
    assert.equal((await call('GET', `/subjects/${s}/versions/1?deleted=true`)).json.id, id1);
    assert.deepEqual((await call('GET', `/subjects/${s}/versions`)).json, [2]);
    assert.deepEqual((await call('GET', `/subjects/${s}/versions?deleted=true`)).json, [1, 2]);
    assert.equal((await call('GET', `/schemas/ids/${id1}`)).status, 200, 'soft-deleted schemas stay readable by id');
    assert.equal((await call('DELETE', `/subjects/${s}/versions/1?permanent=true`)).json, 1);
    expectError(await call('DELETE', `/subjects/${s}/versions/9`), 404, 40402);
    expectError(await call('DELETE', `/subjects/${s}/versions/x`), 422, 42202);

    expectError(await call('DELETE', `/subjects/${s}?permanent=true`), 404, 40405);
    assert.deepEqual((await call('DELETE', `/subjects/${s}`)).json, [2]);
    expectError(await call('DELETE', `/subjects/${s}`), 404, 40404);
    assert.ok(!(await call('GET', '/subjects')).json.includes(s));
    assert.ok((await call('GET', '/subjects?deleted=true')).json.includes(s));
    expectError(await call('GET', `/subjects/${s}/versions`), 404, 40401);
    assert.deepEqual((await call('DELETE', `/subjects/${s}?permanent=true`)).json, [2]);
    expectError(await call('DELETE', `/subjects/${s}`), 404, 40401);
    expectError(await call('DELETE', '/subjects/never-value'), 404, 40401);
    // Re-registering after deletion starts again and keeps the global id.
    const again = await call('POST', `/subjects/${s}/versions`, schemaBody(patientV1));
    assert.equal(again.json.id, id1);
  });

  it('honours READONLY and IMPORT modes; IMPORT registers under a given id', async () => {
    assert.deepEqual((await call('GET', '/mode')).json, { mode: 'READWRITE' });
    expectError(await call('PUT', '/mode', { mode: 'SOMETIMES' }), 422, 42204);
    expectError(await call('GET', '/mode/ro-value'), 404, 40409);
    assert.deepEqual((await call('GET', '/mode/ro-value?defaultToGlobal=true')).json, { mode: 'READWRITE' });
    assert.deepEqual((await call('PUT', '/mode/ro-value', { mode: 'READONLY' })).json, { mode: 'READONLY' });
    expectError(await call('POST', '/subjects/ro-value/versions', schemaBody(patientV1)), 422, 42205);
    assert.deepEqual((await call('DELETE', '/mode/ro-value')).json, { mode: 'READONLY' });

    // An id/version outside IMPORT mode is refused.
    expectError(await call('POST', '/subjects/import-value/versions', schemaBody(patientV1, { id: 5000 })), 422, 42205);
    // Entering IMPORT where schemas exist needs force (Confluent's guard).
    expectError(await call('PUT', '/mode', { mode: 'IMPORT' }), 422, 42205);
    assert.deepEqual((await call('PUT', '/mode/import-value', { mode: 'IMPORT' })).json, { mode: 'IMPORT' });
    expectError(await call('POST', '/subjects/import-value/versions', schemaBody(patientV1)), 422, 42205);
    const foreign = { type: 'record', name: 'Foreign', namespace: 'elsewhere', fields: [{ name: 'x', type: 'long' }] };
    const imported = await call('POST', '/subjects/import-value/versions', schemaBody(foreign, { id: 5000, version: 3 }));
    assert.deepEqual(imported.json, { id: 5000 });
    assert.deepEqual((await call('GET', '/schemas/ids/5000')).json, { schema: JSON.stringify(foreign) });
    assert.deepEqual((await call('GET', '/subjects/import-value/versions/3')).json, { subject: 'import-value', version: 3, id: 5000, schema: JSON.stringify(foreign) });
    // The same id with other content is refused.
    expectError(await call('POST', '/subjects/import-value/versions', schemaBody(patientV1, { id: 5000 })), 422, 42205);
    // Imported data decodes with the real client.
    const client = new SchemaRegistry({ host: baseUrl, auth });
    const bytes = Buffer.concat([Buffer.from([0, 0, 0, 0x13, 0x88]), Buffer.from([0x54])]);
    assert.deepEqual({ ...(await client.decode(bytes)) }, { x: 42 });
    assert.deepEqual((await call('PUT', '/mode/import-value', { mode: 'READWRITE' })).json, { mode: 'READWRITE' });
    // Ids allocated later never collide with imported ones.
    const next = await call('POST', '/subjects/after-import-value/versions', schemaBody({ type: 'enum', name: 'AfterImport', symbols: ['A'] }));
    assert.ok(next.json.id > 5000);
    assert.deepEqual((await call('PUT', '/mode?force=true', { mode: 'IMPORT' })).json, { mode: 'IMPORT' });
    assert.deepEqual((await call('PUT', '/mode', { mode: 'READWRITE' })).json, { mode: 'READWRITE' });
  });

  it('gives one id to concurrent registrations of the same schema', async () => {
    const schema = { type: 'record', name: 'Concurrent', fields: [{ name: 'n', type: 'int' }] };
    const replies = await Promise.all(
      Array.from({ length: 24 }, (_, i) => call('POST', `/subjects/concurrent-${i % 3}-value/versions`, schemaBody(schema))),
    );
    for (const r of replies) assert.equal(r.status, 200, r.text);
    assert.equal(new Set(replies.map((r) => r.json.id)).size, 1);
    for (let i = 0; i < 3; i++) assert.deepEqual((await call('GET', `/subjects/concurrent-${i}-value/versions`)).json, [1]);
  });

  it('keeps ids stable across a restart on the same database', async () => {
    const before = (await call('GET', '/subjects/reads-value/versions/latest')).json;
    const subjects = (await call('GET', '/subjects')).json;
    await server.close();
    await start();
    assert.deepEqual((await call('GET', '/subjects/reads-value/versions/latest')).json, before);
    assert.deepEqual((await call('GET', '/subjects')).json, subjects);
    assert.equal((await call('POST', '/subjects/reads-value/versions', schemaBody(patientV2))).json.id, before.id);
    const migrations = await admin(async () => {
      const c = new Client({ connectionString: dbUrl });
      await c.connect();
      try {
        return (await c.query('SELECT version FROM schema_registry_migrations ORDER BY version')).rows;
      } finally {
        await c.end();
      }
    });
    assert.deepEqual(migrations, [{ version: 1 }]);
  });
});
