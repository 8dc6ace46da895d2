import { Consumer, Kafka } from 'kafkajs';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { TIERS, stageTopic } from '@clinmesh/topology';
import { uniqueName, waitFor } from './test-environment';
import type { IngestPipeline } from './ingest-pipeline';

/** One record read from a clinical.ingested.<tier> topic, decoded the way any downstream client would. */
export interface IngestedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  headers: Record<string, string>;
  /** The Avro-decoded IngestedEvent (decoded through the schema registry by the schema id in the record). */
  value: Record<string, any>;
}

/**
 * Reads every clinical.ingested.* topic from the beginning with a plain
 * kafkajs consumer (own group) and decodes values with
 * @kafkajs/confluent-schema-registry — no clinmesh serde involved, so the
 * tests see what an outside consumer sees. Keeps every record, duplicates
 * included, so "exactly once" can be asserted.
 */
export class IngestedTopicReader {
  readonly records: IngestedRecord[] = [];
  readonly decodeErrors: string[] = [];
  private consumer?: Consumer;

  constructor(private readonly kafka: Kafka, private readonly registry: { url: string; auth: { username: string; password: string } }) {}

  async start(): Promise<void> {
    const registry = new SchemaRegistry({ host: this.registry.url, auth: this.registry.auth });
    // A short fetch wait: the mock cluster answers a fetch only when the wait expires, and tests wait on records one by one.
    const consumer = this.kafka.consumer({ groupId: uniqueName('ingested-reader'), sessionTimeout: 10000, heartbeatInterval: 500, maxWaitTimeInMs: 100, maxBytesPerPartition: 16 << 20, maxBytes: 64 << 20 });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: TIERS.map((t) => stageTopic('ingested', t)), fromBeginning: true });
    let joined = false;
    consumer.on(consumer.events.GROUP_JOIN, () => { joined = true; });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
        try {
          const value = await registry.decode(message.value as Buffer);
          this.records.push({ topic, partition, offset: message.offset, key: message.key?.toString('utf8') ?? null, headers, value });
        } catch (error) {
          this.decodeErrors.push(`${topic}/${partition}@${message.offset}: ${(error as Error).message}`);
        }
      },
    });
    await waitFor(() => joined, { what: 'ingested reader to join its group', timeoutMs: 60000, intervalMs: 100 });
  }

  /** Records whose event has this control id. */
  byControlId(controlId: string): IngestedRecord[] {
    return this.records.filter((r) => r.value.controlId === controlId);
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
  }

  /**
   * Watermark instead of a pause: once ingest's outbox is empty every event it
   * committed has been produced; this reader is then caught up when it has read
   * every clinical.ingested.* partition to the high watermark taken after that.
   * Anything not read by then was never published.
   */
  async readEverythingPublished(pipeline: IngestPipeline): Promise<void> {
    await waitFor(async () => (await pipeline.metric('clinmesh_outbox_backlog')) === 0, { what: 'ingest outbox drained', timeoutMs: 120000 });
    const admin = pipeline.kafka().admin();
    await admin.connect();
    try {
      // One topic at a time, retried: kafkajs's fetchTopicOffsets can fail transiently on the mock cluster (empty ListOffsets answer).
      const ends = await waitFor(async () => {
        const out = [];
        for (const t of TIERS) out.push({ topic: stageTopic('ingested', t), offsets: await admin.fetchTopicOffsets(stageTopic('ingested', t)) });
        return out;
      }, { what: 'the ingested topics\' high watermarks', timeoutMs: 60000, intervalMs: 250 });
      const readTo = (topic: string, partition: number) => this.records.reduce((max, r) => (r.topic === topic && r.partition === partition ? Math.max(max, Number(r.offset) + 1) : max), 0);
      await waitFor(() => ends.every(({ topic, offsets }) => offsets.every((o) => readTo(topic, o.partition) >= Number(o.high))), { what: 'the reader at the ingested topics\' high watermarks', timeoutMs: 120000, intervalMs: 100 });
    } finally {
      await admin.disconnect();
    }
  }
}
