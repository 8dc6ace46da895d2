import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startEmbeddedPlatform } from '@clinmesh/embedded-platform';
import { IngestPipeline, adtMessage, oruMessage } from '@clinmesh/testing';
import type { TestEnvironment } from '@clinmesh/testing';
import { runHl7ParserBench } from './hl7v2-parser.bench';
import { isEntryPoint } from './bench-entry';
import { cpuBetween, sampleCpu } from './process-cpu';

/**
 * MLLP intake throughput of the real ingest process with durable storage:
 * an embedded PostgreSQL started WITHOUT fast mode (fsync and synchronous
 * commit on, as in production), 8 concurrent MLLP connections, each sending
 * one message and waiting for its ACK before the next (the way interface
 * engines send: one outstanding message per connection). An ACK is only
 * written after the raw message and its outbox event are committed, so
 * "ACK round trips per second" is durable messages per second.
 *
 * Also runs the HL7 v2 parser comparison (bench/hl7v2-parser.bench.ts).
 */
export async function runIngestBench(opts: { connections?: number; perConnection?: number; warmup?: number } = {}): Promise<Record<string, number | string>> {
  const connections = opts.connections ?? 8;
  const perConnection = opts.perConnection ?? Number(process.env.BENCH_INGEST_PER_CONNECTION ?? 1500);
  const warmup = opts.warmup ?? 200;
  const dir = join(process.cwd(), '.clinmesh', `bench-ingest-${Date.now().toString(36)}`);
  const platform = await startEmbeddedPlatform({ dir, fast: false });
  const environment: TestEnvironment = {
    pgUrl: platform.postgres.superuserUrl,
    kafkaBrokers: platform.kafka.brokers,
    kafkaControlUrl: platform.kafka.controlUrl,
    registryUrl: platform.registry.url,
    registryAuth: { username: platform.secrets.registryUser, password: platform.secrets.registryPassword },
    registryBasicAuth: platform.registry.basicAuth,
    platformDir: dir,
    authSecret: platform.secrets.authSecret,
    patientKeySecret: platform.secrets.patientKeySecret,
  };
  let pipeline: IngestPipeline | undefined;
  try {
    const [{ setting: fsync }] = await queryOne(platform.postgres.superuserUrl, 'SHOW fsync');
    const [{ synchronous_commit: syncCommit }] = await queryOne(platform.postgres.superuserUrl, 'SHOW synchronous_commit');
    pipeline = await IngestPipeline.start('bench', { environment, env: { LOG_LEVEL: 'warn' } });
    const clients = await Promise.all(Array.from({ length: connections }, () => pipeline!.mllpClient({ responseTimeoutMs: 60000 })));
    const message = (c: number, i: number) => (i % 4 === 3
      ? oruMessage({ controlId: `B-${c}-${i}`, mrn: `MRN-B-${(c * 7919 + i) % 5000}`, flag: i % 8 === 7 ? 'H' : 'N', value: '98' })
      : adtMessage({ controlId: `B-${c}-${i}`, mrn: `MRN-B-${(c * 7919 + i) % 5000}`, trigger: i % 2 ? 'A08' : 'A01' }));
    const run = async (from: number, count: number, latencies?: number[]) => {
      let nonAa = 0;
      await Promise.all(clients.map(async (client, c) => {
        for (let i = from; i < from + count; i++) {
          const t0 = process.hrtime.bigint();
          const ack = (await client.send(message(c, i))).toString('utf8');
          latencies?.push(Number(process.hrtime.bigint() - t0) / 1e6);
          if (!ack.includes('MSA|AA|')) nonAa++;
        }
      }));
      return nonAa;
    };
    await run(0, warmup);
    const pgPort = Number(new URL(platform.postgres.superuserUrl).port);
    const cpu = () => sampleCpu({ ingest: pipeline!.processes.ingest.pid, kafka: pipeline!.kafkaCluster.process.pid }, pgPort);
    const latencies: number[] = [];
    const cpuStart = cpu();
    const t0 = process.hrtime.bigint();
    const nonAa = await run(warmup, perConnection, latencies);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const spent = cpuBetween(cpuStart, cpu());
    await Promise.all(clients.map((c) => c.close()));
    const [{ n: stored }] = await pipeline.query<{ n: number }>(`SELECT count(*)::int AS n FROM in_message WHERE control_id LIKE 'B-%'`);
    // Messages that went into one transaction (the rows' xmin): arrivals on several connections share a group commit.
    const [{ per: perTransaction }] = await pipeline.query<{ per: number }>(
      `SELECT avg(n)::float AS per FROM (SELECT count(*) AS n FROM in_message WHERE control_id LIKE 'B-%' GROUP BY xmin::text) AS t`);
    latencies.sort((a, b) => a - b);
    const total = connections * perConnection;
    const parser = await runHl7ParserBench({ rounds: 150 });
    const result: Record<string, number | string> = {
      'postgres fsync': fsync,
      'postgres synchronous_commit': syncCommit,
      'mllp connections': connections,
      'messages measured': total,
      'non-AA answers': nonAa,
      'messages stored (incl. warm-up)': stored,
      'messages per transaction': +perTransaction.toFixed(2),
      'mllp ACK round trips/s': Math.round(total / seconds),
      'ack latency p50 ms': +latencies[Math.floor(latencies.length * 0.5)].toFixed(2),
      'ack latency p99 ms': +latencies[Math.floor(latencies.length * 0.99)].toFixed(2),
      // CPU per message while measured (/proc): the ingest process, its database's backends, the mock cluster.
      'cpu ms/message ingest': +((spent.get('ingest') ?? 0) / total).toFixed(3),
      'cpu ms/message ingest PostgreSQL': +((spent.get(`postgres:${new URL(pipeline.database).pathname.slice(1)}`) ?? 0) / total).toFixed(3),
      'cpu ms/message kafka cluster': +((spent.get('kafka') ?? 0) / total).toFixed(3),
    };
    for (const row of parser.rows) result[`parser ${row.impl} messages/s`] = row.messagesPerSec;
    result['parser @clinmesh/hl7v2 vs fastest other (x)'] = parser.ratioVsFastest;
    return result;
  } finally {
    await pipeline?.stop().catch(() => undefined);
    await platform.stop().catch(() => undefined);
    if (!process.env.BENCH_KEEP_DIR) rmSync(dir, { recursive: true, force: true });
  }
}

async function queryOne(url: string, sql: string): Promise<Array<Record<string, string>>> {
  const { Client } = await import('pg');
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const rows = (await client.query(sql)).rows as Array<Record<string, string>>;
    return rows.map((r) => ({ setting: Object.values(r)[0], ...r }));
  } finally {
    await client.end();
  }
}

// `node tools/run.js bench/ingest-mllp.bench.js` loads this file from tools/run.js.
const isMain = isEntryPoint(module);
if (isMain) {
  runIngestBench().then((result) => {
    console.log(`ingest MLLP benchmark — Node ${process.version}, durable PostgreSQL (no fast mode), target ≥ 2,000 ACK round trips/s`);
    console.table(Object.entries(result).map(([metric, value]) => ({ metric, value })));
  }).catch((error: unknown) => {
    console.error(error instanceof Error ? error.stack ?? error.message : error);
    process.exitCode = 1;
  });
}
