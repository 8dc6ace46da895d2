/**
 * Re-publication of a retained outbox to a new cluster (issue 8): an
 * upstream runtime publishes N events (tiers mixed, ~1.7 KB each, more than
 * the embedded cluster's ~5 MB window per stat partition) to cluster A and a
 * downstream runtime consumes them all; then both meet a new, empty cluster B
 * (what every `npm start` is). Measured: the time until every retained row is
 * re-published to B, and until the downstream consumer has read every one
 * again (absorbed by its inbox) with no offset lost — i.e. pacing kept the
 * re-publication inside the per-partition window. Durable PostgreSQL.
 *
 *   node tools/run.js bench/republish.bench.js [--events 50000]
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { EVENT_RUNTIME_MIGRATIONS, EventRuntime, MockControlTopicProvisioner, topicConsumer } from '@clinmesh/event-runtime';
import { RunningMockCluster, repoRoot, startEmbeddedPlatform, startMockCluster } from '@clinmesh/embedded-platform';
import { createLogger, RuntimeMetrics } from '@clinmesh/observability';
import { IngestedEvent, loadSchemaCatalog } from '@clinmesh/schemas';
import { PARTITIONS, TIERS, Tier, TopicSpec } from '@clinmesh/topology';
import { isEntryPoint } from './bench-entry';

export interface RepublishBenchResult {
  events: number;
  bytesPerEvent: number;
  firstPublishSeconds: number;
  republishSeconds: number;
  republishEventsPerSecond: number;
  downstreamCaughtUpSeconds: number;
  downstreamDuplicatesAbsorbed: number;
  /** Re-published events the downstream never read (pushed off the window): 0 when pacing held. */
  offsetsLost: number;
}

const topicOf = (tier: Tier) => `bench.republish.${tier}`;

export async function runRepublishBench(events = 50_000, log: (line: string) => void = () => undefined): Promise<RepublishBenchResult> {
  const dir = join(repoRoot(), '.clinmesh', `bench-republish-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  const platform = await startEmbeddedPlatform({ dir, fast: false });
  const catalog = loadSchemaCatalog();
  const topics: TopicSpec[] = TIERS.map((tier) => ({ name: topicOf(tier), partitions: PARTITIONS[tier], schema: 'IngestedEvent', tier }));
  const [user, password] = [platform.registry.basicAuth.slice(0, platform.registry.basicAuth.indexOf(':')), platform.registry.basicAuth.slice(platform.registry.basicAuth.indexOf(':') + 1)];
  const dataSources: DataSource[] = [];
  const database = async (name: string) => {
    const admin = new Client({ connectionString: platform.postgres.superuserUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const ds = new DataSource({ type: 'postgres', url: platform.postgres.superuserUrl.replace(/\/[^/?]+(\?|$)/, `/${name}$1`), migrations: EVENT_RUNTIME_MIGRATIONS, migrationsTableName: 'cm_migrations', extra: { max: 20 } });
    await ds.initialize();
    await ds.runMigrations();
    dataSources.push(ds);
    return ds;
  };
  const up = await database('bench_republish_up');
  const down = await database('bench_republish_down');
  const runtimeOn = (service: string, dataSource: DataSource, cluster: RunningMockCluster, metrics: RuntimeMetrics) => new EventRuntime({
    service, kafka: { brokers: cluster.brokers, clientId: service }, registry: { url: platform.registry.url, auth: { username: user, password } }, dataSource, catalog,
    metrics, logger: createLogger(service, 'warn'), topics, provisioner: new MockControlTopicProvisioner(cluster.controlUrl), consumer: { sessionTimeoutMs: 10000, heartbeatIntervalMs: 1000 },
  });
  const consumers = () => TIERS.map((tier) => topicConsumer({ name: tier, tier, topic: topicOf(tier), schema: 'IngestedEvent', handle: async () => undefined }));
  const sample = async (metrics: RuntimeMetrics, name: string, labels: Record<string, string> = {}) => {
    const metric = await metrics.registry.getSingleMetric(name)?.get();
    return (metric?.values ?? []).filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((n, v) => n + v.value, 0);
  };
  const until = async (what: string, probe: () => Promise<boolean>, timeoutMs = 1_800_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await probe())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const raw = Buffer.alloc(1400, 65);
  const event = (i: number, tier: Tier): IngestedEvent => ({
    eventId: `bench-${i}`, correlationId: `c-${i}`, receivedAt: Date.now(), tier, triageRule: 'bench', source: { system: 'BENCH', facility: 'F', channel: 'MLLP' },
    format: 'HL7V2', messageType: 'ADT^A08', controlId: `M${i}`, version: '2.5.1', sourcePatientKey: `k${i % 997}`, patientIdentifiers: [], contentType: 'x-application/hl7-v2+er7', raw,
  });

  const clusterA = platform.kafka;
  let upMetrics = new RuntimeMetrics('bench-up');
  let downMetrics = new RuntimeMetrics('bench-down');
  let upstream = runtimeOn('bench-up', up, clusterA, upMetrics);
  let downstream = runtimeOn('bench-down', down, clusterA, downMetrics);
  let clusterB: RunningMockCluster | null = null;
  try {
    await upstream.start([]);
    await downstream.start(consumers());
    log(`publishing ${events} events to cluster A…`);
    const t0 = performance.now();
    for (let i = 0; i < events; i += 500) {
      await upstream.inTransaction({ id: `batch-${i}`, correlationId: `batch-${i}`, tier: 'routine' }, async (ctx) => {
        for (let j = i; j < Math.min(events, i + 500); j++) {
          const tier = TIERS[j % TIERS.length];
          ctx.emit({ topic: topicOf(tier), key: `k${j % 997}`, value: event(j, tier), eventId: `bench-${j}`, tier });
        }
      });
    }
    await upstream.drainOutbox(1_800_000);
    const firstPublishSeconds = (performance.now() - t0) / 1000;
    await until('downstream to read everything from cluster A', async () => (await sample(downMetrics, 'clinmesh_events_consumed_total', { outcome: 'processed' })) >= events);
    const [{ bytes }] = await up.query('SELECT avg(octet_length(value))::int AS bytes FROM cm_outbox_published');
    await upstream.stop();
    await downstream.stop();

    log('both meet a new, empty cluster B…');
    clusterB = await startMockCluster();
    upMetrics = new RuntimeMetrics('bench-up');
    downMetrics = new RuntimeMetrics('bench-down');
    upstream = runtimeOn('bench-up', up, clusterB, upMetrics);
    downstream = runtimeOn('bench-down', down, clusterB, downMetrics);
    const t1 = performance.now();
    await Promise.all([upstream.start([]), downstream.start(consumers())]);
    await until('every retained row re-published', async () => (await sample(upMetrics, 'clinmesh_outbox_republished_total')) >= events);
    const republishSeconds = (performance.now() - t1) / 1000;
    // Done when every event was read again — or when the downstream is at its log end without having
    // (records pushed off the window before it read them: what pacing prevents).
    await until('downstream to read every re-published event', async () => (await sample(downMetrics, 'clinmesh_events_consumed_total', { outcome: 'duplicate' })) >= events
      || (await downstream.drainStatus()).pending === 0);
    const downstreamCaughtUpSeconds = (performance.now() - t1) / 1000;
    const result: RepublishBenchResult = {
      events,
      bytesPerEvent: bytes,
      firstPublishSeconds: Number(firstPublishSeconds.toFixed(1)),
      republishSeconds: Number(republishSeconds.toFixed(1)),
      republishEventsPerSecond: Math.round(events / republishSeconds),
      downstreamCaughtUpSeconds: Number(downstreamCaughtUpSeconds.toFixed(1)),
      downstreamDuplicatesAbsorbed: await sample(downMetrics, 'clinmesh_events_consumed_total', { outcome: 'duplicate' }),
      offsetsLost: events - (await sample(downMetrics, 'clinmesh_events_consumed_total', { outcome: 'duplicate' })),
    };
    return result;
  } finally {
    await upstream.stop().catch(() => undefined);
    await downstream.stop().catch(() => undefined);
    await clusterB?.stop();
    for (const ds of dataSources) await ds.destroy().catch(() => undefined);
    await platform.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isEntryPoint(module)) {
  const at = process.argv.indexOf('--events');
  const events = at > 0 ? Number(process.argv[at + 1]) : 50_000;
  runRepublishBench(events, (line) => process.stdout.write(`[republish] ${line}\n`)).then(
    (r) => {
      process.stdout.write(`${JSON.stringify(r)}\n`);
      process.exit(0);
    },
    (error) => {
      process.stderr.write(`republish bench failed: ${error?.stack ?? error}\n`);
      process.exit(1);
    },
  );
}
