/**
 * Normalization throughput: canonical events per second through the
 * normalization work alone (decode IdentifiedEvent → map HL7 v2 to typed
 * canonical records → encode CanonicalEvent → produce), against a bare
 * kafkajs consume → produce hop of the same input bytes, on the same
 * embedded Kafka-protocol cluster in the same run. The service's per-event
 * database transaction (inbox, offsets, outbox, record index) is not in
 * either figure: this isolates what the mapping costs on top of a hop.
 *
 *   node tools/run.js bench/normalization.bench.js [--messages 3000]
 *
 * Prints one JSON line with the figures.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel } from 'kafkajs';
import { DEFAULT_TERMINOLOGY, TerminologyMaps, mapToCanonical } from '@clinmesh/canonical';
import { startMockCluster } from '@clinmesh/embedded-platform';
import { findSchemasDir, loadSchemaCatalog, type IdentifiedEvent } from '@clinmesh/schemas';
import { toCanonicalEvent } from '../apps/normalization/src/domain/canonical-envelope.mapper';
import { isEntryPoint } from './bench-entry';

export interface NormalizationBenchResult {
  messages: number;
  /** Per topic: enough that no partition outgrows the embedded cluster's ~5 MB window. */
  partitions: number;
  bareHopEventsPerSecond: number;
  normalizationEventsPerSecond: number;
  normalizationCostRatio: number;
  mappingOnlyEventsPerSecond: number;
  /** Patients and observations the normalization hop mapped (its events only, not the warm-up sample). */
  records: number;
}

export async function runNormalizationBench(messages = 3000): Promise<NormalizationBenchResult> {
  const catalog = loadSchemaCatalog();
  const identifiedType = catalog.type('IdentifiedEvent');
  const canonicalType = catalog.type('CanonicalEvent');
  const fixtures = join(findSchemasDir(), '..', '..', 'shared', 'fixtures', 'hl7v2');
  const raws = readdirSync(fixtures).filter((f) => f.endsWith('.hl7')).map((f) => readFileSync(join(fixtures, f)));
  const inputs: Buffer[] = [];
  for (let i = 0; i < messages; i++) {
    const raw = raws[i % raws.length];
    const event: IdentifiedEvent = {
      eventId: `bench-${i}`, correlationId: `corr-${i}`, causationId: `ing-${i}`, epid: `EP-${i % 500}`, tier: 'routine',
      identity: { method: 'deterministic-identifier', score: null, personCreated: false },
      ingested: {
        eventId: `ing-${i}`, correlationId: `corr-${i}`, receivedAt: Date.now(), tier: 'routine', triageRule: 'bench', source: { system: 'BENCH', facility: 'B', channel: 'MLLP' },
        format: 'HL7V2', messageType: 'ORU^R01', controlId: `C-${i}`, version: '2.5.1', sourcePatientKey: 'k', patientIdentifiers: [], contentType: 'x-application/hl7-v2+er7', raw,
      },
    };
    inputs.push(identifiedType.toBuffer(event));
  }
  const terminology = new TerminologyMaps(DEFAULT_TERMINOLOGY);
  let records = 0;
  const normalize = (value: Buffer): Buffer => {
    const identified = identifiedType.fromBuffer(value) as IdentifiedEvent;
    const ing = identified.ingested;
    const mapping = mapToCanonical(
      { format: ing.format, raw: ing.raw, messageType: ing.messageType, messageId: ing.controlId, sourceSystem: ing.source.system, sourceFacility: ing.source.facility, epid: identified.epid },
      { terminology, senderTimeZone: 'America/Chicago' },
    );
    records += mapping.records.observations.length + mapping.records.patients.length;
    return canonicalType.toBuffer({ eventId: `${identified.eventId}-c`, ...toCanonicalEvent(identified, mapping) });
  };

  // Mapping alone, in process, on a warm JIT: one untimed pass over a sample first (the first
  // hundreds of events run interpreted and would understate it), then every input, timed.
  let sampleOutBytes = 0;
  for (const v of inputs.slice(0, 500)) sampleOutBytes += normalize(v).length;
  const started = performance.now();
  for (const v of inputs) normalize(v);
  const mappingOnlyEventsPerSecond = inputs.length / ((performance.now() - started) / 1000);
  records = 0; // counted for the hop's events only
  // The embedded cluster keeps only the newest ~5 MB of a partition: a topic holding more would lose
  // its oldest records before the hop reads them (and the hop would wait for them forever). Enough
  // partitions keep each under 2 MB, input and output alike.
  const inBytes = inputs.reduce((n, b) => n + b.length, 0);
  const outBytes = (sampleOutBytes / 500) * inputs.length;
  const partitions = Math.max(6, Math.ceil(Math.max(inBytes, outBytes) / (2 << 20)));

  const cluster = await startMockCluster();
  try {
    const topics = ['bench.in.bare', 'bench.out.bare', 'bench.in.norm', 'bench.out.norm'];
    const res = await fetch(`${cluster.controlUrl}/topics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ topics: topics.map((name) => ({ name, partitions })) }) });
    if (!res.ok) throw new Error(`topic creation failed: ${res.status}`);
    const kafka = new Kafka({ clientId: 'bench', brokers: cluster.brokers, logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ idempotent: false, allowAutoTopicCreation: false });
    await producer.connect();
    for (const input of ['bench.in.bare', 'bench.in.norm']) {
      for (let i = 0; i < inputs.length; i += 500) {
        await producer.send({ topic: input, acks: -1, messages: inputs.slice(i, i + 500).map((value, j) => ({ key: `EP-${(i + j) % 500}`, value })) });
      }
    }
    const hop = async (from: string, to: string, transform: (v: Buffer) => Buffer): Promise<number> => {
      const consumer = kafka.consumer({ groupId: `bench-${from}-${Date.now()}`, sessionTimeout: 6000, heartbeatInterval: 500 });
      await consumer.connect();
      await consumer.subscribe({ topic: from, fromBeginning: true });
      let done = 0;
      let t0 = 0;
      const finished = new Promise<number>((resolve) => {
        void consumer.run({
          eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
            if (!t0) t0 = performance.now();
            await producer.send({ topic: to, acks: -1, messages: batch.messages.map((m) => ({ key: m.key, value: transform(m.value!) })) });
            for (const m of batch.messages) resolveOffset(m.offset);
            await heartbeat();
            done += batch.messages.length;
            if (done >= inputs.length) resolve(performance.now());
          },
        });
      });
      const end = await finished;
      await consumer.disconnect();
      return inputs.length / ((end - t0) / 1000);
    };
    const bareHopEventsPerSecond = await hop('bench.in.bare', 'bench.out.bare', (v) => v);
    const normalizationEventsPerSecond = await hop('bench.in.norm', 'bench.out.norm', normalize);
    await producer.disconnect();
    return {
      messages, partitions, bareHopEventsPerSecond: Math.round(bareHopEventsPerSecond), normalizationEventsPerSecond: Math.round(normalizationEventsPerSecond),
      normalizationCostRatio: Number((bareHopEventsPerSecond / normalizationEventsPerSecond).toFixed(2)),
      mappingOnlyEventsPerSecond: Math.round(mappingOnlyEventsPerSecond), records,
    };
  } finally {
    await cluster.stop();
  }
}

// Run directly, or through `node tools/run.js bench/normalization.bench.js` (which requires this file).
if (isEntryPoint(module)) {
  const n = Number(process.argv[process.argv.indexOf('--messages') + 1]) || 3000;
  runNormalizationBench(n).then((r) => {
    process.stdout.write(`${JSON.stringify(r)}\n`);
  }).catch((e) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exit(1);
  });
}
