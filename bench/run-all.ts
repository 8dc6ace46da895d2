import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEmbeddedPlatform, repoRoot } from '@clinmesh/embedded-platform';
import { TestPipeline, testEnvironmentVariables } from '@clinmesh/testing';
import { runHl7ParserBench } from './hl7v2-parser.bench';
import { runPipelineBench } from './pipeline.bench';
import { runNormalizationBench } from './normalization.bench';
import { runIngestBench } from './ingest-mllp.bench';
import { runRepublishBench } from './republish.bench';
import { runIdentityBench } from './identity.bench';

/**
 * `npm run bench`: every benchmark in one run (figures and same-run ratios),
 * printed and written to bench/results/<timestamp>.json and latest.json.
 * Durable PostgreSQL (fsync on) for everything that stores.
 */
async function main(): Promise<void> {
  const log = (line: string) => process.stdout.write(`[bench] ${line}\n`);
  const root = repoRoot();
  const results: Record<string, unknown> = { startedAt: new Date().toISOString(), machine: { cpus: require('node:os').cpus().length, node: process.version } };

  // `--only pipeline` (or parser, ingest, normalization, republish, identity) runs a subset.
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
  const want = (name: string) => !only || only === name;

  if (want('parser')) {
    log('HL7 v2 parser versus @medplum/core and simple-hl7…');
    results.hl7Parser = await runHl7ParserBench();
  }
  if (want('ingest')) {
    log('MLLP intake with durable storage…');
    results.ingestMllp = await runIngestBench();
  }
  if (want('normalization')) {
    log('normalization mapping versus the bare hop…');
    results.normalizationMapping = await runNormalizationBench();
  }
  if (want('republish')) {
    log('re-publishing a retained outbox of 50,000 events to a new cluster…');
    results.republish = await runRepublishBench(50_000, log);
  }
  if (want('identity')) {
    results.identity = await runIdentityBench(100_000, log);
    const id = results.identity as Awaited<ReturnType<typeof runIdentityBench>>;
    log(`identity at 100k, chunks of 50: service path ${JSON.stringify(id.service)}; SQL path ${JSON.stringify(id.sql)}; service/SQL ${id.serviceToSqlRatio}`);
  }
  if (!want('pipeline')) {
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    process.exit(0);
  }

  const dir = join(root, '.clinmesh', `bench-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  log('starting the embedded platform (durable) and the six services…');
  const platform = await startEmbeddedPlatform({ dir, fast: false });
  Object.assign(process.env, testEnvironmentVariables(platform));

  // CLINMESH_BENCH_CPU_PROF_DIR=<dir>: every service writes a V8 CPU profile there when it stops.
  const profDir = process.env.CLINMESH_BENCH_CPU_PROF_DIR;
  let pipeline: TestPipeline | undefined;
  try {
    pipeline = await TestPipeline.start('bench', { env: {
      LOG_LEVEL: 'warn', CLINMESH_CONSUMER_SESSION_TIMEOUT_MS: '10000',
      ...(profDir ? { CLINMESH_NODE_ARGS: `--cpu-prof --cpu-prof-dir=${profDir}` } : {}),
    } });
    results.pipeline = await runPipelineBench(pipeline, log);
  } finally {
    // Stopped with SIGTERM: each service exits through process.exit, which writes its CPU profile.
    await pipeline?.stop();
    await platform.stop();
    // Kept when the run failed: its logs say why.
    if (results.pipeline) rmSync(dir, { recursive: true, force: true });
    else log(`logs kept in ${join(dir, 'logs')}`);
  }
  results.finishedAt = new Date().toISOString();

  const out = join(root, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  const stamp = String(results.startedAt).replace(/[:.]/g, '-');
  writeFileSync(join(out, `${stamp}.json`), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(out, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`\n${JSON.stringify(results, null, 2)}\n`);
  const p = results.pipeline as Awaited<ReturnType<typeof runPipelineBench>>;
  process.stdout.write([
    '',
    `end to end (mixed HL7 feed, 6 services):  ${p.endToEndMessagesPerSecond} msg/s   (target ≥ 1,000)`,
    `  … delivered to the webhook: ${p.deliveredToWebhookMessagesPerSecond} msg/s; webhook deliveries while draining: ${p.webhookDeliveriesPerSecondDraining}/s`,
    `bare kafkajs hop (same cluster, ceiling): ${p.bareHopMessagesPerSecond} msg/s   ratio e2e/hop ${p.endToEndOverBareHop}`,
    ...Object.entries(p.latencyMsByTier).map(([tier, l]) => `latency ${tier.padEnd(8)} p50 ${l.p50} ms  p95 ${l.p95} ms  p99 ${l.p99} ms  (n=${l.n})`),
    `stat idle p50/p99: ${p.statIdle.p50}/${p.statIdle.p99} ms; during bulk flood: ${p.statDuringBulkFlood.p50}/${p.statDuringBulkFlood.p99} ms; p99 ratio ${p.statP99FloodOverIdle} (target ≤ 1.5)`,
    ...Object.entries(p.cpuPerMessage.stages).map(([stage, c]) => `CPU/msg ${stage.padEnd(20)} ${c.totalMs} ms (service ${c.serviceMs} + its PostgreSQL ${c.postgresMs}; net of idle ${c.netMs}) → ${c.ceilingPerCore} msg/s per core`),
    `CPU/msg kafka cluster ${p.cpuPerMessage.kafkaMs} ms, PostgreSQL other ${p.cpuPerMessage.postgresOtherMs} ms; all ${p.cpuPerMessage.totalMs} ms → two-core ceiling ${p.cpuPerMessage.twoCoreCeiling} msg/s (${p.cpuPerMessage.twoCoreCeilingWithoutIdentity} without identity)`,
    `normalization service alone: ${p.normalizationServiceEventsPerSecond} events/s`,
    `results: bench/results/${stamp}.json`,
    '',
  ].join('\n'));
  process.exit(0);
}

void main().catch((error) => {
  process.stderr.write(`bench failed: ${error?.stack ?? error}\n`);
  process.exit(1);
});
