import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataSource } from 'typeorm';
import { Kafka, logLevel } from 'kafkajs';
import { EVENT_TOPICS, TopicSpec, deadLetterTopic } from '@clinmesh/topology';
import { loadSchemaCatalog, IngestedEvent } from '@clinmesh/schemas';
import { createLogger, RuntimeMetrics } from '@clinmesh/observability';
import { MigratedDatabases, testEnvironment, uniqueName, waitFor } from '@clinmesh/testing';
import { EventRuntime } from '../event-runtime';
import { EVENT_RUNTIME_MIGRATIONS } from '../persistence/migrations';
import { MockControlTopicProvisioner } from '../kafka/topic-provisioner';
import { HEADER } from '../event-headers';
import { topicConsumer } from './consumer-definition';

/**
 * Bulk pacing against the embedded cluster: while a higher tier is active, a service's bulk work
 * keeps its share of the time across all of its bulk partitions, not per partition. Each bulk
 * partition resting on its own let the next partition's chunk run at once, so four partitions with
 * a backlog ran back to back and pacing bounded nothing.
 */
describe('bulk pacing across partitions (integration)', { timeout: 300_000 }, () => {
  const env = testEnvironment();
  const catalog = loadSchemaCatalog();
  const service = uniqueName('pace').replace(/_/g, '-');
  const bulkTopic = `it.${service}.bulk`;
  const PARTITIONS = 4;
  const PER_PARTITION = 20;
  const SHARE = 0.2;
  const PACED_CHUNK = 5;
  const topics: TopicSpec[] = [
    { name: bulkTopic, partitions: PARTITIONS, schema: 'IngestedEvent', tier: 'bulk' },
    { name: deadLetterTopic(service), partitions: 1, schema: 'DeadLetter' },
    { name: EVENT_TOPICS.operations, partitions: 6, schema: 'OperationsEvent' },
  ];
  let dataSource: DataSource;
  let runtime: EventRuntime;
  /** Each handled bulk event: its partition and when its handler started and ended. */
  const handled: Array<{ partition: number; start: number; end: number }> = [];

  const event = (i: number): IngestedEvent => ({
    eventId: `b-${i}`, correlationId: `c-${i}`, receivedAt: Date.now(), tier: 'bulk', triageRule: 'test', source: { system: 'T', facility: 'F', channel: 'HTTP' },
    format: 'HL7V2', messageType: 'ADT^A08', controlId: `M${i}`, version: '2.5.1', sourcePatientKey: 'k', patientIdentifiers: [], contentType: 'x', raw: Buffer.alloc(16, 65),
  });

  const databases = new MigratedDatabases(env, EVENT_RUNTIME_MIGRATIONS);

  before(async () => {
    dataSource = await databases.create('pace');
    await new MockControlTopicProvisioner(env.kafkaControlUrl).ensureTopics(topics);
  });

  after(async () => {
    await runtime?.stop();
    await databases.dropAll();
  });

  it('rests the service\'s bulk work as a whole while stat is active: no partition\'s chunk runs in another\'s rest', async () => {
    runtime = new EventRuntime({
      service, kafka: { brokers: env.kafkaBrokers, clientId: service }, registry: { url: env.registryUrl, auth: env.registryAuth }, dataSource, catalog,
      metrics: new RuntimeMetrics(service), logger: createLogger(service, 'silent'), topics,
      consumer: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, bulkPacing: { share: SHARE, withinMs: 600_000, maxPauseMs: 1000, chunkSize: PACED_CHUNK } },
    });
    // Stat was active here a moment ago and has no backlog now: bulk paces itself and does not yield.
    runtime.governor.report('stat', 'probe:0', 1);
    runtime.governor.report('stat', 'probe:0', 0);
    await runtime.start([
      topicConsumer({ name: 'bulk', tier: 'bulk', topic: bulkTopic, schema: 'IngestedEvent', handle: async (e) => {
        // Measurable work: a chunk holds the event loop for ~PACED_CHUNK × 3 ms, as real bulk work does.
        const start = Date.now();
        while (Date.now() - start < 3) { /* busy */ }
        handled.push({ partition: e.partition, start, end: Date.now() });
      } }),
    ]);
    const consumer = runtime.consumer('bulk')!;
    await consumer.suspend();
    const { SchemaRegistry } = await import('@kafkajs/confluent-schema-registry');
    const registry = new SchemaRegistry({ host: env.registryUrl, auth: env.registryAuth });
    const id = await registry.getLatestSchemaId(`${bulkTopic}-value`);
    const producer = new Kafka({ brokers: env.kafkaBrokers, logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    for (let p = 0; p < PARTITIONS; p++) {
      const messages = await Promise.all(Array.from({ length: PER_PARTITION }, async (_, j) => {
        const i = p * PER_PARTITION + j;
        return { partition: p, key: `k${i}`, value: await registry.encode(id, event(i)), headers: { [HEADER.eventId]: `b-${i}`, [HEADER.correlationId]: `c-${i}`, [HEADER.tier]: 'bulk' } };
      }));
      await producer.send({ topic: bulkTopic, acks: -1, messages });
    }
    await producer.disconnect();
    await consumer.resumeFromStored();
    await waitFor(() => handled.length >= PARTITIONS * PER_PARTITION, { what: 'the bulk backlog', timeoutMs: 120000 });

    // Chunks in the order they ran: a run of one partition's events with no other partition's in between.
    const chunks: Array<{ partition: number; start: number; end: number; events: number }> = [];
    for (const h of handled) {
      const last = chunks[chunks.length - 1];
      if (last && last.partition === h.partition && last.events < PACED_CHUNK) Object.assign(last, { end: h.end, events: last.events + 1 });
      else chunks.push({ ...h, events: 1 });
    }
    assert.ok(chunks.every((c) => c.events <= PACED_CHUNK), 'bulk is cut to the paced chunk size');
    assert.ok(new Set(chunks.map((c) => c.partition)).size === PARTITIONS, 'every partition had work');
    // After each chunk the service's bulk work rests (1 − share) / share of the chunk's time (the whole
    // chunk's, of which the handlers are a part) before any partition's next chunk starts.
    const rests = chunks.slice(1).map((c, k) => ({ gap: c.start - chunks[k].end, due: ((1 - SHARE) / SHARE) * (chunks[k].end - chunks[k].start), from: chunks[k].partition, to: c.partition }));
    const crossed = rests.filter((r) => r.from !== r.to);
    assert.ok(crossed.length >= PARTITIONS - 1, `chunks of different partitions followed one another (${crossed.length} times)`);
    const cut = rests.filter((r) => r.gap < r.due - 2);
    assert.deepEqual(cut, [], 'no chunk started within the rest of the one before it, whatever its partition');
  });
});
