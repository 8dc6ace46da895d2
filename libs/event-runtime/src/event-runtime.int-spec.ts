import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { Kafka, logLevel } from 'kafkajs';
import { EVENT_TOPICS, deadLetterTopic, TopicSpec } from '@clinmesh/topology';
import { loadSchemaCatalog, IngestedEvent, OperationsEvent } from '@clinmesh/schemas';
import { createLogger, RuntimeMetrics } from '@clinmesh/observability';
import { testEnvironment, uniqueName, waitFor } from '@clinmesh/testing';
import { EventRuntime } from './event-runtime';
import { OutboxRelay } from './outbox/outbox.relay';
import { EVENT_RUNTIME_MIGRATIONS } from './persistence/migrations';
import { MockControlTopicProvisioner } from './kafka/topic-provisioner';
import { HEADER } from './event-headers';
import { InboundEvent } from './consumer/inbound-event';
import { topicConsumer } from './consumer/consumer-definition';

/**
 * The event runtime against the embedded Kafka-protocol cluster, registry and
 * PostgreSQL: offsets that fell off the log are reported, never skipped; a
 * new cluster starts from its beginning; poison goes to the dead-letter
 * table and topic while the partition moves on; duplicates are absorbed.
 */
describe('event runtime (integration)', { timeout: 300_000 }, () => {
  const env = testEnvironment();
  const catalog = loadSchemaCatalog();
  const service = uniqueName('rt').replace(/_/g, '-');
  const inTopic = `it.${service}.in`;
  const lossTopic = `it.${service}.loss`;
  const gatherTopic = `it.${service}.gather`;
  const statInTopic = `it.${service}.stat-in`;
  const statOutTopic = `it.${service}.stat-out`;
  const dupTopic = `it.${service}.dup`;
  const topics: TopicSpec[] = [
    { name: inTopic, partitions: 1, schema: 'IngestedEvent', tier: 'routine' },
    { name: lossTopic, partitions: 1, schema: 'IngestedEvent', tier: 'bulk' },
    { name: gatherTopic, partitions: 1, schema: 'IngestedEvent', tier: 'routine' },
    { name: statInTopic, partitions: 1, schema: 'IngestedEvent', tier: 'stat' },
    { name: statOutTopic, partitions: 1, schema: 'IngestedEvent', tier: 'stat' },
    { name: dupTopic, partitions: 1, schema: 'IngestedEvent', tier: 'urgent' },
    { name: deadLetterTopic(service), partitions: 1, schema: 'DeadLetter' },
    { name: EVENT_TOPICS.operations, partitions: 6, schema: 'OperationsEvent' },
  ];
  const kafka = new Kafka({ brokers: env.kafkaBrokers, logLevel: logLevel.NOTHING });
  let dataSource: DataSource;
  let runtime: EventRuntime;
  let metrics: RuntimeMetrics;
  const handled: Array<InboundEvent<IngestedEvent>> = [];
  const gathered: number[] = [];
  /** The stat hop: what it handled (in order) and what reached the sink behind it. */
  const statHopped: string[] = [];
  const statSunk: string[] = [];
  let failureFixed = false;
  let dbName = '';

  const event = (i: number, bytes = 16): IngestedEvent => ({
    eventId: `e-${i}`, correlationId: `c-${i}`, receivedAt: Date.now(), tier: 'routine', triageRule: 'test', source: { system: 'T', facility: 'F', channel: 'HTTP' },
    format: 'HL7V2', messageType: 'ADT^A08', controlId: `M${i}`, version: '2.5.1', sourcePatientKey: 'k', patientIdentifiers: [], contentType: 'x', raw: Buffer.alloc(bytes, 65),
  });
  const headers = (i: number) => ({ [HEADER.eventId]: `e-${i}`, [HEADER.correlationId]: `c-${i}`, [HEADER.tier]: 'routine' });
  /** The registry and the latest value schema id of `topic`, to encode test events as a producer would. */
  const latestSchema = async (topic: string) => {
    const { SchemaRegistry } = await import('@kafkajs/confluent-schema-registry');
    const registry = new SchemaRegistry({ host: env.registryUrl, auth: env.registryAuth });
    return { registry, id: await registry.getLatestSchemaId(`${topic}-value`) };
  };
  /** The sum of a metric's samples whose labels include `labels`. */
  /** A metric's value summed over the series matching `labels`; for a histogram, `series` picks `_count` or `_sum`. */
  const sample = async (of: RuntimeMetrics, name: string, labels: Record<string, string> = {}, series?: 'count' | 'sum') => {
    const metric = await of.registry.getSingleMetric(name)?.get();
    return (metric?.values ?? [])
      .filter((v) => (!series || (v as { metricName?: string }).metricName === `${name}_${series}`) && Object.entries(labels).every(([k, x]) => v.labels[k] === x))
      .reduce((n, v) => n + v.value, 0);
  };
  const transactionRecords = async (tier: string) => ({
    count: await sample(metrics, 'clinmesh_transaction_records', { tier }, 'count'), sum: await sample(metrics, 'clinmesh_transaction_records', { tier }, 'sum'),
  });

  before(async () => {
    dbName = uniqueName('rt');
    const admin = new Client({ connectionString: env.pgUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    dataSource = new DataSource({ type: 'postgres', url: env.pgUrl.replace(/\/[^/]+$/, `/${dbName}`), migrations: EVENT_RUNTIME_MIGRATIONS, migrationsTableName: 'cm_migrations' });
    await dataSource.initialize();
    await dataSource.runMigrations();
    await dataSource.query('CREATE TABLE it_effect (event_id text NOT NULL)');
    await new MockControlTopicProvisioner(env.kafkaControlUrl).ensureTopics(topics);
    metrics = new RuntimeMetrics(service);
  });

  after(async () => {
    await runtime?.stop();
    await dataSource?.destroy();
  });

  it('reports a stored offset that fell off the log instead of skipping, and goes on only after an operator accepts the loss', async () => {
    // Fill the loss topic past the embedded cluster's ~5 MB per-partition cap so the log start moves.
    const producer = kafka.producer();
    await producer.connect();
    const registryEncoder = async () => {
      const { SchemaRegistry, SchemaType } = await import('@kafkajs/confluent-schema-registry');
      const registry = new SchemaRegistry({ host: env.registryUrl, auth: env.registryAuth });
      const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(catalog.schema('IngestedEvent')) }, { subject: `${lossTopic}-value` });
      return (v: IngestedEvent) => registry.encode(id, v);
    };
    const encode = await registryEncoder();
    const admin = kafka.admin();
    await admin.connect();
    let low = 0;
    for (let i = 0; low === 0 && i < 4000; i += 50) {
      const messages = await Promise.all(Array.from({ length: 50 }, (_, j) => encode(event(i + j, 20_000)).then((value) => ({ key: 'p', value, headers: headers(i + j) }))));
      await producer.send({ topic: lossTopic, acks: -1, messages });
      low = Number((await admin.fetchTopicOffsets(lossTopic))[0].low);
    }
    await producer.disconnect();
    const [offsets] = await admin.fetchTopicOffsets(lossTopic);
    const clusterId = (await admin.describeCluster()).clusterId;
    await admin.disconnect();
    assert.ok(Number(offsets.low) > 0, 'the log start moved');
    await dataSource.query(`INSERT INTO cm_consumer_offsets (consumer_group, topic, partition, next_offset, cluster_id) VALUES ($1, $2, 0, 0, $3)`, [`${service}.bulk`, lossTopic, clusterId]);

    runtime = new EventRuntime({
      service, kafka: { brokers: env.kafkaBrokers, clientId: service }, registry: { url: env.registryUrl, auth: env.registryAuth }, dataSource, catalog,
      metrics, logger: createLogger(service, 'silent'), topics, consumer: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500 },
    });
    await runtime.start([
      topicConsumer({ name: 'bulk', tier: 'bulk', topic: lossTopic, schema: 'IngestedEvent', handle: async (e) => { handled.push(e); } }),
      topicConsumer({ name: 'routine', topic: inTopic, schema: 'IngestedEvent', handle: async (e, ctx) => {
        // The effect is a row written in the event's transaction: rolled back with it, so it counts exactly-once effects.
        await ctx.uow.execute('INSERT INTO it_effect (event_id) VALUES ($1)', [e.eventId]);
        if (e.value.controlId === 'FAIL' && !failureFixed) throw new Error('non-retriable business failure');
        ctx.uow.afterCommit(() => handled.push(e));
      } }),
      topicConsumer({ name: 'dup', tier: 'urgent', topic: dupTopic, schema: 'IngestedEvent', handle: async (e, ctx) => {
        await ctx.uow.execute('INSERT INTO it_effect (event_id) VALUES ($1)', [e.eventId]);
      } }),
      topicConsumer({ name: 'gather', topic: gatherTopic, schema: 'IngestedEvent', handle: async (e) => { gathered.push(e.offset); } }),
      topicConsumer({ name: 'stat-hop', tier: 'stat', topic: statInTopic, schema: 'IngestedEvent', handle: async (e, ctx) => {
        const value = { ...e.value, eventId: ctx.deriveEventId('hop') };
        ctx.emit({ topic: statOutTopic, key: 'k', value });
        ctx.uow.afterCommit(() => statHopped.push(value.eventId));
      } }),
      topicConsumer({ name: 'stat-sink', tier: 'stat', topic: statOutTopic, schema: 'IngestedEvent', handle: async (e) => { statSunk.push(e.eventId); } }),
    ]);
    const lost = await waitFor(() => runtime.consumerStatus().find((c) => c.tier === 'bulk')?.partitions.find((p) => p.lost), { what: 'the loss to be reported', timeoutMs: 60000 });
    assert.deepEqual(lost.lost, { from: 0, to: Number(offsets.low) });
    assert.match(await metrics.registry.getSingleMetricAsString('clinmesh_consumer_offset_lost'), /clinmesh_consumer_offset_lost\{[^}]*topic="[^"]+loss"[^}]*\} 1/);
    // Absence proved against a later watermark, not the clock: a marker sent after the loss report on
    // the other consumer of the same runtime is handled, and still nothing past the gap was.
    const { SchemaRegistry } = await import('@kafkajs/confluent-schema-registry');
    const markerRegistry = new SchemaRegistry({ host: env.registryUrl, auth: env.registryAuth });
    const markerProducer = kafka.producer();
    await markerProducer.connect();
    await markerProducer.send({ topic: inTopic, acks: -1, messages: [{
      key: 'k', value: await markerRegistry.encode(await markerRegistry.getLatestSchemaId(`${inTopic}-value`), { ...event(0), eventId: 'wm-1' }),
      headers: { ...headers(0), [HEADER.eventId]: 'wm-1' },
    }] });
    await markerProducer.disconnect();
    await waitFor(() => handled.some((e) => e.eventId === 'wm-1'), { what: 'the watermark on the other consumer', timeoutMs: 60000 });
    assert.equal(handled.filter((e) => e.topic === lossTopic).length, 0, 'nothing was processed past the gap');
    assert.ok(runtime.consumerStatus().find((c) => c.tier === 'bulk')?.partitions.find((p) => p.lost), 'the partition is still stopped');

    assert.equal(runtime.consumer('bulk')!.acceptLoss(lossTopic, 0), true);
    const expected = Number(offsets.high) - Number(offsets.low);
    await waitFor(() => handled.filter((e) => e.topic === lossTopic).length >= expected, { what: 'the retained log to be processed after the decision', timeoutMs: 60000 });
    assert.equal(handled.filter((e) => e.topic === lossTopic)[0].offset, Number(offsets.low));
  });

  it('dead-letters poison with its bytes and error, absorbs duplicates, and keeps the partition moving', async () => {
    const { registry, id } = await latestSchema(inTopic);
    const producer = kafka.producer();
    await producer.connect();
    const good = await registry.encode(id, event(1));
    const failing = await registry.encode(id, { ...event(3), controlId: 'FAIL' });
    await producer.send({ topic: inTopic, acks: -1, messages: [
      { key: 'k', value: Buffer.from('definitely not avro'), headers: headers(100) },
      { key: 'k', value: good, headers: headers(1) },
      { key: 'k', value: good, headers: headers(1) },
      { key: 'k', value: failing, headers: headers(3) },
      { key: 'k', value: await registry.encode(id, event(2)), headers: headers(2) },
    ] });
    await producer.disconnect();
    // Committed, not just handled: a handler runs again when its chunk is rolled back (the failing event's).
    await waitFor(async () => (await dataSource.query(`SELECT 1 FROM it_effect WHERE event_id = 'e-2'`)).length > 0, { what: 'the event after the poison', timeoutMs: 60000 });
    const effects = await dataSource.query(`SELECT event_id, count(*)::int AS n FROM it_effect WHERE event_id <> 'wm-1' GROUP BY event_id ORDER BY event_id`);
    assert.deepEqual(effects, [{ event_id: 'e-1', n: 1 }, { event_id: 'e-2', n: 1 }], 'one effect per event: the duplicate was absorbed, the failure rolled back');
    const dead = await dataSource.query(`SELECT error_code, value, status FROM cm_dead_letters WHERE topic = $1 ORDER BY "offset"`, [inTopic]);
    assert.equal(dead.length, 2);
    assert.equal(dead[0].error_code, 'SERDE.NOT_CONFLUENT_AVRO');
    assert.equal(Buffer.from(dead[0].value).toString(), 'definitely not avro', 'original bytes kept');
    assert.equal(dead[1].error_code, 'Error');
    const [{ next_offset: nextOffset }] = await dataSource.query(`SELECT next_offset FROM cm_consumer_offsets WHERE consumer_group = $1 AND topic = $2`, [`${service}.routine`, inTopic]);
    assert.equal(Number(nextOffset), 6, 'stored offset moved past everything (watermark, then five), poison included');
    await runtime.drainOutbox();
    const consumer = kafka.consumer({ groupId: uniqueName('dlq-reader'), sessionTimeout: 6000 });
    await consumer.connect();
    await consumer.subscribe({ topic: deadLetterTopic(service), fromBeginning: true });
    const seen: unknown[] = [];
    await consumer.run({ eachMessage: async ({ message }) => { seen.push(await registry.decode(message.value!)); } });
    await waitFor(() => seen.length >= 2, { what: 'dead letters on the DLQ topic', timeoutMs: 60000 });
    await consumer.disconnect();
    assert.equal((seen[0] as { topic: string }).topic, inTopic);
  });

  it('a chunk handled before its inbox check that holds a handled event is rolled back and handled again after the check; chunks after it are checked first', async () => {
    const { registry, id } = await latestSchema(dupTopic);
    const producer = kafka.producer();
    await producer.connect();
    after(() => producer.disconnect());
    const send = async (...ids: number[]) => producer.send({ topic: dupTopic, acks: -1, messages: await Promise.all(ids.map(async (i) => ({ key: 'k', value: await registry.encode(id, event(i)), headers: headers(i) }))) });
    const effects = async () => Object.fromEntries((await dataSource.query(`SELECT event_id, count(*)::int AS n FROM it_effect WHERE event_id IN ('e-400', 'e-401', 'e-402') GROUP BY event_id`)).map((r: { event_id: string; n: number }) => [r.event_id, r.n]));
    await send(400);
    await waitFor(async () => (await effects())['e-400'] === 1, { what: 'e-400 committed' });
    assert.equal(await sample(metrics, 'clinmesh_inbox_conflicts_total', { tier: 'urgent' }), 0);
    // Redelivered with a new event behind it, in one chunk: handled unchecked, the inbox insert meets e-400.
    await send(400, 401);
    await waitFor(async () => (await effects())['e-401'] === 1, { what: 'e-401 committed' });
    assert.deepEqual(await effects(), { 'e-400': 1, 'e-401': 1 }, 'the redelivered event has no second effect; the new one has one');
    assert.equal(await sample(metrics, 'clinmesh_inbox_conflicts_total', { tier: 'urgent' }), 1, 'the first attempt met the inbox');
    assert.equal(await sample(metrics, 'clinmesh_events_consumed_total', { topic: dupTopic, outcome: 'duplicate' }), 1);
    // Duplicates arriving: the next chunk is checked before it is handled, so no second conflict.
    await send(400, 402);
    await waitFor(async () => (await effects())['e-402'] === 1, { what: 'e-402 committed' });
    assert.deepEqual(await effects(), { 'e-400': 1, 'e-401': 1, 'e-402': 1 });
    assert.equal(await sample(metrics, 'clinmesh_inbox_conflicts_total', { tier: 'urgent' }), 1, 'checked first this time');
    assert.equal(await sample(metrics, 'clinmesh_events_consumed_total', { topic: dupTopic, outcome: 'duplicate' }), 2);
  });

  it('gathers a backlog that arrives one record batch per fetch into chunks: few transactions, every event once, in order', async () => {
    // The embedded cluster answers a fetch with one record batch per partition, and a producer that
    // sends one event per request writes one batch per event: without gathering, one transaction each.
    const gather = runtime.consumer('gather')!;
    await gather.suspend();
    const { SchemaRegistry } = await import('@kafkajs/confluent-schema-registry');
    const registry = new SchemaRegistry({ host: env.registryUrl, auth: env.registryAuth });
    const id = await registry.getLatestSchemaId(`${gatherTopic}-value`);
    const producer = kafka.producer();
    await producer.connect();
    const count = 150;
    for (let i = 0; i < count; i++) {
      await producer.send({ topic: gatherTopic, acks: -1, messages: [{ key: 'g', value: await registry.encode(id, { ...event(1000 + i), eventId: `g-${i}` }), headers: { ...headers(1000 + i), [HEADER.eventId]: `g-${i}` } }] });
    }
    await producer.disconnect();
    const before = await transactionRecords('routine');
    await gather.resumeFromStored();
    await waitFor(() => gathered.length >= count, { what: 'the gathered backlog', timeoutMs: 60000 });
    assert.deepEqual(gathered, Array.from({ length: count }, (_, i) => i), 'every event once, in offset order');
    const [{ transactions }] = await dataSource.query(
      'SELECT count(DISTINCT processed_at)::int AS transactions FROM cm_inbox WHERE consumer_group = $1', [`${service}.gather`]);
    assert.ok(transactions <= count / 5, `${count} single-record batches were handled in ${transactions} transactions (one per event without gathering)`);
    // The transaction-size histogram saw them too: every record once, in as few transactions.
    const observed = await transactionRecords('routine');
    assert.ok(observed.sum - before.sum >= count, `records observed in transactions: ${observed.sum - before.sum}`);
    assert.ok(observed.count - before.count >= transactions && (observed.sum - before.sum) / (observed.count - before.count) >= 5,
      `${observed.count - before.count} transactions observed for ${observed.sum - before.sum} records`);
  });

  it('redrives a dead letter in one transaction: handled once, marked redriven, and both steps announced on the operations topic', async () => {
    const [failed] = await dataSource.query(`SELECT id FROM cm_dead_letters WHERE topic = $1 AND error_code = 'Error'`, [inTopic]);
    failureFixed = true;
    const result = await runtime.deadLetters.redrive(failed.id, 'operator-1');
    assert.deepEqual(result, { id: failed.id, status: 'redriven' });
    assert.ok(handled.some((e) => e.eventId === 'e-3'), 'the redriven event reached its handler');
    const effects = await dataSource.query(`SELECT count(*)::int AS n FROM it_effect WHERE event_id = 'e-3'`);
    assert.equal(effects[0].n, 1, 'the failed attempts left no effect; the redrive left one');
    assert.deepEqual(await runtime.deadLetters.redrive(failed.id, 'operator-1'), { id: failed.id, status: 'redriven' }, 'a second redrive is a no-op');
    assert.equal((await dataSource.query(`SELECT count(*)::int AS n FROM it_effect WHERE event_id = 'e-3'`))[0].n, 1);
    await runtime.drainOutbox();

    const { SchemaRegistry } = await import('@kafkajs/confluent-schema-registry');
    const registry = new SchemaRegistry({ host: env.registryUrl, auth: env.registryAuth });
    const consumer = kafka.consumer({ groupId: uniqueName('ops-reader'), sessionTimeout: 6000 });
    await consumer.connect();
    await consumer.subscribe({ topic: EVENT_TOPICS.operations, fromBeginning: true });
    const ops: OperationsEvent[] = [];
    await consumer.run({ eachMessage: async ({ message }) => {
      const value = (await registry.decode(message.value!)) as OperationsEvent;
      if (value.service === service) ops.push(value);
    } });
    await waitFor(() => ops.some((o) => o.kind === 'REDRIVEN') && ops.filter((o) => o.kind === 'DEAD_LETTERED').length >= 2, { what: 'dead-lettered and redriven operations events', timeoutMs: 60000 });
    await consumer.disconnect();
    const redriven = ops.find((o) => o.kind === 'REDRIVEN')!;
    assert.equal(redriven.deadLetterId, failed.id);
    assert.equal(redriven.actor, 'operator-1');
    assert.equal(redriven.correlationId, 'c-3');
  });

  it('inTransaction: effects and emitted events commit together, with metadata inherited from the origin; afterCommit runs only once committed', async () => {
    const woken: string[] = [];
    await assert.rejects(runtime.inTransaction({ id: 'op-fail', correlationId: 'corr-x', tier: 'urgent' }, async (ctx) => {
      await ctx.uow.execute('INSERT INTO it_effect (event_id) VALUES ($1)', ['op-fail']);
      ctx.uow.afterCommit(() => woken.push('op-fail'));
      ctx.emit({ topic: inTopic, key: 'k', value: { ...event(50), eventId: ctx.deriveEventId('out') } });
      throw new Error('the request failed');
    }));
    assert.equal((await dataSource.query(`SELECT count(*)::int AS n FROM cm_outbox WHERE headers->>'clinmesh-correlation-id' = 'corr-x'`))[0].n, 0, 'nothing emitted by a rolled-back transaction');
    assert.equal((await dataSource.query(`SELECT count(*)::int AS n FROM it_effect WHERE event_id = 'op-fail'`))[0].n, 0);

    assert.deepEqual(woken, [], 'a rolled-back transaction wakes nobody');

    const before = handled.length;
    // What a woken worker reads on its own connection: the committed row (a wake before the commit would find nothing).
    let seenByWorker: Promise<number> | null = null;
    const wakeWorker = () => { seenByWorker = dataSource.query(`SELECT count(*)::int AS n FROM it_effect WHERE event_id = 'op-ok'`).then((r) => r[0].n); };
    const emittedId = await runtime.inTransaction({ id: 'op-ok', correlationId: 'corr-y', tier: 'urgent', source: 'TEST', receivedAt: 1700000000000 }, async (ctx) => {
      await ctx.uow.execute('INSERT INTO it_effect (event_id) VALUES ($1)', ['op-ok']);
      ctx.uow.afterCommit(wakeWorker);
      ctx.uow.afterCommit(wakeWorker);
      assert.equal(seenByWorker, null, 'not before the commit');
      const value = { ...event(51), eventId: ctx.deriveEventId('out') };
      ctx.emit({ topic: inTopic, key: 'k', value });
      return value.eventId;
    });
    assert.ok(seenByWorker, 'woken once the transaction committed');
    assert.equal(await seenByWorker, 1, 'the woken reader sees the committed row');
    const got = await waitFor(() => handled.slice(before).find((e) => e.eventId === emittedId), { what: 'the event emitted in a transaction', timeoutMs: 60000 });
    assert.equal(got.correlationId, 'corr-y');
    assert.equal(got.tier, 'urgent');
    assert.equal(got.source, 'TEST');
    assert.equal(got.receivedAt, 1700000000000);
    assert.equal(got.eventType, 'IngestedEvent', 'the event type comes from the schema the topic carries');
  });

  it('stat rows a consumer transaction wrote are handed to the relay (no select back): each published once, in order', async () => {
    const handedOver = async () => (await metrics.registry.getSingleMetric('clinmesh_outbox_stat_handed_over_total')!.get()).values[0]?.value ?? 0;
    const before = await handedOver();
    const send = (i: number) => runtime.inTransaction({ id: `stat-in-${i}`, correlationId: `corr-stat-${i}`, tier: 'stat' }, async (ctx) => {
      ctx.emit({ topic: statInTopic, key: 'k', value: { ...event(600 + i), eventId: ctx.deriveEventId('in'), tier: 'stat' } });
    });
    // One at a time, as on an idle system: each hop's row goes by hand-over.
    for (let i = 0; i < 5; i++) {
      await send(i);
      await waitFor(() => statSunk.length === i + 1, { what: `stat event ${i} through the hop`, timeoutMs: 30000 });
    }
    assert.ok((await handedOver()) - before >= 5, 'the hop\'s five rows were published as handed over');
    // A burst: hand-overs meet selects and each other; nothing is lost, doubled or reordered.
    await Promise.all(Array.from({ length: 30 }, (_, i) => send(10 + i)));
    await waitFor(() => statHopped.length === 35 && statSunk.length >= 35, { what: 'the burst through the hop', timeoutMs: 60000 });
    // A marker behind the burst: once it arrives, any duplicate of the burst would have arrived before it.
    await send(99);
    await waitFor(() => statSunk.length >= 36 && statSunk.includes(statHopped[35] ?? '?'), { what: 'the marker through the hop', timeoutMs: 30000 });
    assert.equal(statHopped.length, 36);
    assert.deepEqual(statSunk, statHopped, 'the sink got every hop event once, in the order the hop wrote them');
  });

  it('a hand-over made before a stat publish finished is void: those rows may be what it published, and are not published twice', async () => {
    const relay = (runtime as unknown as { relay: OutboxRelay }).relay;
    const admin = kafka.admin();
    await admin.connect();
    // Counted on the topic itself: the sink's inbox would absorb a second copy.
    const logEnd = async () => Number((await admin.fetchTopicOffsets(statOutTopic))[0].high);
    const endBefore = await logEnd();
    const ticket = relay.ticket();
    assert.notEqual(ticket, undefined, 'the stat loop takes hand-overs');
    const sinkEvent = (i: number) => runtime.inTransaction({ id: `stat-direct-${i}`, correlationId: `corr-direct-${i}`, tier: 'stat' }, async (ctx) => {
      const value = { ...event(700 + i), eventId: ctx.deriveEventId('direct'), tier: 'stat' as const };
      ctx.emit({ topic: statOutTopic, key: 'k', value });
      return value.eventId;
    });
    // Written by an HTTP-style transaction: selected and published by the relay, a stat publish after the ticket.
    const first = await sinkEvent(1);
    await waitFor(() => statSunk.includes(first), { what: 'the first event at the sink', timeoutMs: 30000 });
    const [published] = await dataSource.query(`SELECT id::text AS id, topic, message_key, value, headers FROM cm_outbox_published WHERE event_id = $1`, [first]);
    relay.handOver(ticket!, [{ id: published.id, topic: published.topic, key: published.message_key, value: published.value, headers: published.headers }], false);
    const marker = await sinkEvent(2);
    await waitFor(() => statSunk.includes(marker), { what: 'a marker behind the void hand-over', timeoutMs: 30000 });
    assert.equal(statSunk.filter((id) => id === first).length, 1);
    assert.equal(await logEnd(), endBefore + 2, 'two events, two records: the handed-over row was not published again');
    await admin.disconnect();
  });

  it('a relay without the lock (another replica holds it) waits its poll: a notify wakes it for one look, not into a spin', async () => {
    // A second relay over the same database, as in a second replica: the runtime's relay holds the lock.
    const replica = new DataSource({ type: 'postgres', url: env.pgUrl.replace(/\/[^/]+$/, `/${dbName}`) });
    await replica.initialize();
    let lockAttempts = 0;
    const createQueryRunner = replica.createQueryRunner.bind(replica);
    replica.createQueryRunner = (...args) => {
      const runner = createQueryRunner(...args);
      const query = runner.query.bind(runner);
      runner.query = ((sql: string, ...rest: unknown[]) => {
        if (sql.includes('pg_try_advisory_lock')) lockAttempts += 1;
        return (query as (...a: unknown[]) => Promise<unknown>)(sql, ...rest);
      }) as typeof runner.query;
      return runner;
    };
    const producer = kafka.producer();
    const relay = new OutboxRelay(replica, producer, new RuntimeMetrics(`${service}-replica`), createLogger(service, 'silent'), { idlePollMs: 1000 });
    try {
      relay.start();
      await waitFor(() => lockAttempts >= 1, { what: 'the replica relay to try the lock', timeoutMs: 30000 });
      const started = Date.now();
      const before = lockAttempts;
      relay.notify('all');
      await waitFor(() => lockAttempts > before, { what: 'the notify to wake it for one look', timeoutMs: 30000 });
      // While the runtime's relay publishes and its consumer handles 20 events, the waiting relay sleeps.
      // (It used to keep the notify pending and look again at once, round after round.)
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) {
        ids.push(await runtime.inTransaction({ id: `op-wait-${i}`, correlationId: `corr-wait-${i}`, tier: 'routine' }, async (ctx) => {
          const value = { ...event(400 + i), eventId: ctx.deriveEventId('out') };
          ctx.emit({ topic: inTopic, key: 'k', value });
          return value.eventId;
        }));
      }
      await waitFor(() => ids.every((id) => handled.some((e) => e.eventId === id)), { what: 'the 20 events handled', timeoutMs: 60000 });
      // One look for the notify, then one per elapsed poll period (1 s) at most.
      const allowed = 1 + Math.ceil((Date.now() - started) / 1000);
      assert.ok(lockAttempts - before <= allowed, `${lockAttempts - before} lock attempts in ${Date.now() - started} ms (at most ${allowed})`);
    } finally {
      await relay.stop();
      await replica.destroy();
    }
  });

  it('keeps published rows with their cluster id, and re-publishes them in original order to a cluster it never published to — the inbox absorbs them', async () => {
    const emitted: string[] = [];
    for (let i = 0; i < 5; i++) {
      emitted.push(await runtime.inTransaction({ id: `op-order-${i}`, correlationId: 'corr-order', tier: 'routine' }, async (ctx) => {
        const value = { ...event(60 + i), eventId: ctx.deriveEventId('out') };
        ctx.emit({ topic: inTopic, key: 'same-key', value });
        return value.eventId;
      }));
    }
    await waitFor(() => emitted.every((id) => handled.some((e) => e.eventId === id)), { what: 'the five events handled', timeoutMs: 60000 });
    await runtime.drainOutbox();
    const kept = await dataSource.query(`SELECT event_id, cluster_id FROM cm_outbox_published WHERE event_id = ANY($1) ORDER BY id`, [emitted]);
    assert.deepEqual(kept.map((r: { event_id: string }) => r.event_id), emitted, 'published rows are kept, in commit order');
    assert.ok(kept.every((r: { cluster_id: string }) => r.cluster_id === runtime.currentClusterId()), 'with the cluster they went to');
    const [{ n: retained }] = await dataSource.query('SELECT count(*)::int AS n FROM cm_outbox_published');

    // The same database meets "another" cluster: what the relay published went to one it never saw.
    await runtime.stop();
    await dataSource.query(`UPDATE cm_outbox_published SET cluster_id = 'a-previous-cluster'`);
    await dataSource.query(`DELETE FROM cm_relay_clusters`);
    const effectsBefore = (await dataSource.query('SELECT count(*)::int AS n FROM it_effect'))[0].n;
    const handledBefore = handled.length;
    const republishMetrics = new RuntimeMetrics(service);
    runtime = new EventRuntime({
      service, kafka: { brokers: env.kafkaBrokers, clientId: service }, registry: { url: env.registryUrl, auth: env.registryAuth }, dataSource, catalog,
      metrics: republishMetrics, logger: createLogger(service, 'silent'), topics, consumer: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500 },
    });
    await runtime.start([topicConsumer({ name: 'routine', topic: inTopic, schema: 'IngestedEvent', handle: async (e, ctx) => {
      await ctx.uow.execute('INSERT INTO it_effect (event_id) VALUES ($1)', [e.eventId]);
      // Handled is committed: a chunk handled before its inbox check runs again if it met a duplicate.
      ctx.uow.afterCommit(() => handled.push(e));
    } })]);
    await waitFor(async () => (await sample(republishMetrics, 'clinmesh_outbox_republished_total')) >= retained, { what: `all ${retained} retained rows re-published`, timeoutMs: 60000 });
    await waitFor(async () => (await sample(republishMetrics, 'clinmesh_events_consumed_total', { topic: inTopic, outcome: 'duplicate' })) >= 5, { what: 'the consumer to see the five again', timeoutMs: 60000 });
    assert.equal(handled.length, handledBefore, 'nothing handled twice');
    assert.ok(await sample(republishMetrics, 'clinmesh_inbox_conflicts_total', { tier: 'routine' }) >= 1, 'the first re-published chunk was handled unchecked, met the inbox and was handled again');
    assert.equal((await dataSource.query('SELECT count(*)::int AS n FROM it_effect'))[0].n, effectsBefore, 'no second effect');
    assert.equal((await dataSource.query(`SELECT count(*)::int AS n FROM cm_outbox_published WHERE cluster_id = $1`, [runtime.currentClusterId()]))[0].n, retained, 'all kept again, now for this cluster');

    // On the topic: each of the five twice, the second time in the same (original) order.
    const reader = kafka.consumer({ groupId: uniqueName('order-reader'), sessionTimeout: 6000 });
    await reader.connect();
    await reader.subscribe({ topic: inTopic, fromBeginning: true });
    const order: string[] = [];
    await reader.run({ eachMessage: async ({ message }) => {
      const id = message.headers?.[HEADER.eventId]?.toString();
      if (id && emitted.includes(id)) order.push(id);
    } });
    await waitFor(() => order.length >= 10, { what: 'both publications of the five on the topic', timeoutMs: 60000 });
    await reader.disconnect();
    assert.deepEqual(order, [...emitted, ...emitted]);
  });

  it('starts a new (in-memory) cluster from its beginning instead of trusting offsets stored for another cluster', async () => {
    await runtime.stop();
    handled.length = 0;
    await dataSource.query(`UPDATE cm_consumer_offsets SET cluster_id = 'a-previous-cluster', next_offset = 999999 WHERE topic = $1`, [inTopic]);
    await dataSource.query(`DELETE FROM cm_inbox`);
    runtime = new EventRuntime({
      service, kafka: { brokers: env.kafkaBrokers, clientId: service }, registry: { url: env.registryUrl, auth: env.registryAuth }, dataSource, catalog,
      metrics: new RuntimeMetrics(service), logger: createLogger(service, 'silent'), topics, consumer: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500 },
    });
    await runtime.start([topicConsumer({ name: 'routine', topic: inTopic, schema: 'IngestedEvent', handle: async (e) => { handled.push(e); } })]);
    await waitFor(() => handled.some((e) => e.eventId === 'e-2'), { what: 'reprocessing from offset 0', timeoutMs: 60000 });
    assert.equal(handled.find((e) => e.eventId === 'e-1')?.offset, 2);
  });
});
