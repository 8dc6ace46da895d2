import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { loadSchemaCatalog, type IngestedEvent } from '@clinmesh/schemas';
import { testEnvironment } from '@clinmesh/testing';
import { AvroSerde } from './avro-serde';

/**
 * AvroSerde's one-pass encode against the real schema registry: the bytes are exactly those of the
 * client library's `encode` (header and body) for values smaller and larger than avsc's 1 kB buffer
 * and larger than the serde's own reused buffer, and they decode to the value; a value the schema
 * refuses fails with the library's validation error, as before.
 */
describe('AvroSerde.encode (Confluent wire format, one pass)', { timeout: 60_000 }, () => {
  const env = testEnvironment();
  const ingested = (raw: Buffer): IngestedEvent => ({
    eventId: `ev-${raw.length}`, correlationId: 'corr-1', receivedAt: 1764500000000, tier: 'routine', triageRule: 'default',
    source: { system: 'LAB', facility: 'MAIN', channel: 'MLLP' }, format: 'HL7V2', messageType: 'ORU^R01', controlId: 'C-1',
    version: '2.5.1', sourcePatientKey: 'k-1', patientIdentifiers: [], contentType: 'x-application/hl7-v2+er7', raw,
  });

  it('writes the bytes the client library writes, for small, large and larger-than-its-buffer values, and they decode', async () => {
    const topic = `serde.onepass.${Date.now()}`;
    const serde = new AvroSerde({ url: env.registryUrl, auth: env.registryAuth }, loadSchemaCatalog());
    await serde.registerTopics([{ name: topic, schema: 'IngestedEvent' }]);
    const library = new SchemaRegistry({ host: env.registryUrl, auth: env.registryAuth });
    const id = serde.schemaIdFor(topic);
    for (const size of [10, 3_000, 200_000, 50, 90_000]) {
      const value = ingested(randomBytes(size));
      const ours = await serde.encode(topic, value);
      assert.deepEqual(ours, await library.encode(id, value), `${size}-byte raw message`);
      assert.equal(ours.readInt32BE(1), id);
      const { value: back } = await serde.decode<IngestedEvent>(ours, 'IngestedEvent');
      assert.deepEqual(back.raw, value.raw);
      assert.equal(back.eventId, value.eventId);
    }
  });

  it('a value the schema refuses fails with the library validation error naming the field', async () => {
    const topic = `serde.invalid.${Date.now()}`;
    const serde = new AvroSerde({ url: env.registryUrl, auth: env.registryAuth }, loadSchemaCatalog());
    await serde.registerTopics([{ name: topic, schema: 'IngestedEvent' }]);
    const bad = { ...ingested(Buffer.from('x')), controlId: 42 } as unknown as IngestedEvent;
    await assert.rejects(serde.encode(topic, bad), (e: Error & { paths?: string[][] }) => {
      assert.equal(e.name, 'ConfluentSchemaRegistryValidationError');
      assert.ok(e.paths?.some((p) => p.includes('controlId')), JSON.stringify(e.paths));
      return true;
    });
  });
});
