/**
 * Notifier, through the real process (embedded platform: Kafka-protocol
 * cluster, registry, durable PostgreSQL), fed registry-encoded TaskEvents on
 * clinical.tasks.* as the task service publishes them, delivering to local
 * Standard Webhooks receivers:
 *
 * - deliveries per second to one local receiver (`--throughput` events);
 * - time from a task event's production to its webhook (p50/p99) with 20
 *   healthy subscribers, `--paced` events at `--rate`/s;
 * - the same with one dead subscriber (it never answers: every attempt runs
 *   into the timeout) among the 20: the healthy subscribers' p99 must stay
 *   within 1.5 × its value without the dead one.
 *
 *   node tools/run.js bench/notifier.bench.js [--throughput 5000] [--paced 300] [--rate 30]
 *
 * Prints one JSON line.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Kafka, logLevel } from 'kafkajs';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { ManagedProcess, freePort, startEmbeddedPlatform } from '@clinmesh/embedded-platform';
import { AccessTokens, ALL_SCOPES } from '@clinmesh/security';
import { HEADER, stageTopic } from '@clinmesh/topology';
import { WebhookReceiver, waitFor } from '@clinmesh/testing';
import { isEntryPoint } from './bench-entry';

export interface NotifierBenchResult {
  throughput: { events: number; deliveriesPerSecond: number };
  healthy20: { deliveries: number; p50: number; p99: number };
  healthy20WithOneDead: { deliveries: number; p50: number; p99: number; deadAttempts: number };
  p99WithDeadOverWithout: number;
  withinBudget: boolean;
}

const arg = (name: string, fallback: number) => (process.argv.includes(`--${name}`) ? Number(process.argv[process.argv.indexOf(`--${name}`) + 1]) : fallback);
const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0); };

export async function runNotifierBench(options: { throughput?: number; paced?: number; rate?: number } = {}): Promise<NotifierBenchResult> {
  const throughputEvents = options.throughput ?? 5000;
  const paced = options.paced ?? 300;
  const rate = options.rate ?? 30;
  const dir = mkdtempSync(join(tmpdir(), 'clinmesh-notifier-bench-'));
  chmodSync(dir, 0o755); // PostgreSQL runs as the clinmesh user and reads its files under it
  const platform = await startEmbeddedPlatform({ dir, fast: false });
  const port = await freePort();
  const notifier = new ManagedProcess({
    name: 'notifier', entry: 'apps/notifier/src/main.js', logFile: join(dir, 'logs', 'notifier.log'),
    env: platform.serviceEnv('notifier', { NOTIFIER_HTTP_PORT: String(port), NOTIFIER_WEBHOOK_ALLOWLIST: '127.0.0.1', NOTIFIER_DELIVERY_TIMEOUT_MS: '5000', LOG_LEVEL: 'warn' }),
  });
  const url = `http://127.0.0.1:${port}`;
  const kafka = new Kafka({ clientId: 'notifier-bench', brokers: platform.kafka.bootstraps.split(','), logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  const receivers: WebhookReceiver[] = [];
  try {
    notifier.start();
    await notifier.waitForHttp(`${url}/health/ready`, 180000);
    await producer.connect();
    const token = await new AccessTokens(platform.secrets.authSecret).issue('bench', ALL_SCOPES, 3600, 'bench');
    const [user, ...pw] = platform.registry.basicAuth.split(':');
    const registry = new SchemaRegistry({ host: platform.registry.url, auth: { username: user, password: pw.join(':') } });
    const topic = stageTopic('tasks', 'urgent');
    const schemaId = await registry.getLatestSchemaId(`${topic}-value`);

    const receiver = async (respond?: () => { status: number; hang?: boolean }) => {
      const r = new WebhookReceiver('unset', respond ? { respond } : {});
      await r.start();
      receivers.push(r);
      return r;
    };
    const subscribe = async (r: WebhookReceiver, audience: string) => {
      const res = await fetch(`${url}/v1/subscriptions`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ url: r.url, audience, events: ['task.*'] }) });
      if (res.status !== 201) throw new Error(`subscribe: ${res.status} ${await res.text()}`);
    };
    let n = 0;
    const produce = async (audience: string, count: number) => {
      const messages = await Promise.all(Array.from({ length: count }, async () => {
        const i = ++n;
        const now = Date.now();
        const value = {
          eventId: `bench-ev-${i}`, correlationId: `bench-corr-${i}`, causationId: `bench-routed-${i}`, epid: `EPID-B-${i % 64}`, tier: 'urgent', taskId: `bench-task-${i}`,
          change: 'CREATED', workflow: 'result-review', status: 'requested', title: 'Review ORU^R01', dueAt: now + 3600_000, audiences: [audience], messageType: 'ORU^R01',
          resourceType: 'Observation', canonicalId: `obs-${i}`, receivedAt: now,
        };
        return { key: value.epid, value: await registry.encode(schemaId, value), headers: { [HEADER.eventId]: value.eventId, [HEADER.correlationId]: value.correlationId, [HEADER.tier]: 'urgent', [HEADER.receivedAt]: String(now) } };
      }));
      await producer.send({ topic, acks: -1, messages });
    };
    const latencies = (rs: WebhookReceiver[]) => rs.flatMap((r) => r.deliveries.map((d) => d.receivedAt - Number((d.body as { receivedAt: number }).receivedAt)));
    const pacedRun = async (audience: string, rs: WebhookReceiver[]) => {
      const tickMs = Math.max(100, Math.round(1000 / rate));
      const batch = Math.max(1, Math.round((rate * tickMs) / 1000));
      for (let sent = 0; sent < paced; sent += batch) {
        await produce(audience, Math.min(batch, paced - sent));
        await new Promise((r) => setTimeout(r, tickMs));
      }
      await waitFor(() => rs.every((r) => r.processed().size >= paced), { what: `${paced} deliveries to each of ${rs.length}`, timeoutMs: 600000, intervalMs: 200 });
    };

    // 1. Throughput to one receiver.
    const one = await receiver();
    await subscribe(one, 'bench-throughput');
    await produce('bench-throughput', 10);
    await waitFor(() => one.processed().size >= 10, { what: 'warm-up', timeoutMs: 120000 });
    const t0 = performance.now();
    for (let i = 0; i < throughputEvents; i += 500) await produce('bench-throughput', Math.min(500, throughputEvents - i));
    await waitFor(() => one.processed().size >= throughputEvents + 10, { what: `${throughputEvents} deliveries`, timeoutMs: 900000, intervalMs: 100 });
    const deliveriesPerSecond = Math.round(throughputEvents / ((performance.now() - t0) / 1000));

    // 2. 20 healthy subscribers.
    const healthyA = await Promise.all(Array.from({ length: 20 }, () => receiver()));
    for (const r of healthyA) await subscribe(r, 'bench-latency-a');
    await pacedRun('bench-latency-a', healthyA);
    const a = latencies(healthyA);

    // 3. 20 healthy subscribers and one that never answers.
    const healthyB = await Promise.all(Array.from({ length: 20 }, () => receiver()));
    for (const r of healthyB) await subscribe(r, 'bench-latency-b');
    const dead = await receiver(() => ({ status: 200, hang: true }));
    await subscribe(dead, 'bench-latency-b');
    await pacedRun('bench-latency-b', healthyB);
    const b = latencies(healthyB);

    const ratio = Math.round((pct(b, 99) / Math.max(1, pct(a, 99))) * 100) / 100;
    return {
      throughput: { events: throughputEvents, deliveriesPerSecond },
      healthy20: { deliveries: a.length, p50: pct(a, 50), p99: pct(a, 99) },
      healthy20WithOneDead: { deliveries: b.length, p50: pct(b, 50), p99: pct(b, 99), deadAttempts: dead.attempts.length },
      p99WithDeadOverWithout: ratio,
      withinBudget: ratio <= 1.5,
    };
  } finally {
    await producer.disconnect().catch(() => undefined);
    for (const r of receivers) await r.stop();
    await notifier.stop();
    await platform.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isEntryPoint(module)) {
  runNotifierBench({ throughput: arg('throughput', 5000), paced: arg('paced', 300), rate: arg('rate', 30) })
    .then((r) => { process.stdout.write(`${JSON.stringify(r)}\n`); process.exit(0); }, (e) => { process.stderr.write(`${(e as Error).stack}\n`); process.exit(1); });
}
