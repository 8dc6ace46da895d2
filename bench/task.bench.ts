/**
 * Task service, through the real process (HTTP API, PostgreSQL, Kafka-protocol
 * cluster, registry — the embedded platform, durable PostgreSQL):
 *
 * - transitions per second through `POST /v1/tasks/{id}/transitions`
 *   (claim then start, If-Match, `concurrency` requests in flight; each is a
 *   transaction with the version-checked UPDATE, a history row, an outbox row
 *   and an audit record);
 * - SLA timer firing lag with `open` open tasks in the table (their timers
 *   armed later): `due` tasks fall due over a few seconds; the lag is from
 *   each one's due time to its ESCALATED event read back from
 *   clinical.tasks.* by a Kafka consumer.
 *
 *   node tools/run.js bench/task.bench.js [--open 100000] [--due 500] [--transitions 2000] [--concurrency 16]
 *
 * Prints one JSON line.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { Kafka, logLevel } from 'kafkajs';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { ManagedProcess, freePort, repoRoot, startEmbeddedPlatform } from '@clinmesh/embedded-platform';
import { AccessTokens, ALL_SCOPES } from '@clinmesh/security';
import { waitFor } from '@clinmesh/testing';
import { isEntryPoint } from './bench-entry';

export interface TaskBenchResult {
  openTasks: number;
  transitions: number;
  concurrency: number;
  transitionsPerSecond: number;
  transitionLatencyMs: { p50: number; p95: number };
  dueTimers: number;
  timerLagMs: { p50: number; p95: number; p99: number; max: number };
  timersFiredPerSecond: number;
}

const arg = (name: string, fallback: number) => (process.argv.includes(`--${name}`) ? Number(process.argv[process.argv.indexOf(`--${name}`) + 1]) : fallback);
const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0); };

/** Open tasks inserted straight into tk_task (admission follow-up, urgent), timers armed at `timerAt` (null = none). */
async function seed(db: Client, prefix: string, n: number, timerAt: (i: number) => number | null): Promise<void> {
  for (let from = 0; from < n; from += 5000) {
    const count = Math.min(5000, n - from);
    const timers = Array.from({ length: count }, (_, i) => { const t = timerAt(from + i); return t === null ? null : new Date(t).toISOString(); });
    await db.query(
      `INSERT INTO tk_task (task_id, workflow, workflow_version, state, status, business_status, tier, epid, correlation_id, source_event_id, trigger_key, title, message_type,
         resource_type, canonical_id, audiences, due_at, created_at, updated_at, version, escalation_rung, next_timer_at, details)
       SELECT $1 || g, 'admission-notice', 1, 'requested', 'requested', 'awaiting-follow-up', 'urgent', 'EP-BENCH-' || (g % 5000), $1 || 'corr-' || g, $1 || 'src-' || g,
         'admission-notice|' || $1 || g, 'Admission follow-up: ADT^A01', 'ADT^A01', 'Encounter', $1 || 'enc-' || g, ARRAY['care-coordination'],
         coalesce(t.at, now() + interval '1 day'), now(), now(), 1, 0, t.at, '{}'::jsonb
       FROM generate_series($2::int, $3::int) AS g JOIN unnest($4::timestamptz[]) WITH ORDINALITY AS t(at, i) ON t.i = g - $2::int + 1`,
      [prefix, from, from + count - 1, timers]);
  }
}

export async function runTaskBench(options: { open?: number; due?: number; transitions?: number; concurrency?: number } = {}): Promise<TaskBenchResult> {
  const open = options.open ?? 100_000;
  const dueCount = options.due ?? 500;
  const transitions = options.transitions ?? 2000;
  const concurrency = options.concurrency ?? 16;
  // Under the repository's .clinmesh (the embedded PostgreSQL runs as the clinmesh user and must read it).
  const dir = join(repoRoot(), '.clinmesh', `task-bench-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const platform = await startEmbeddedPlatform({ dir, fast: false });
  const port = await freePort();
  const task = new ManagedProcess({
    name: 'task', entry: 'apps/task/src/main.js', logFile: join(dir, 'logs', 'task.log'),
    env: { ...platform.serviceEnv('task'), TASK_HTTP_PORT: String(port), TASK_TIMER_POLL_MS: '100', LOG_LEVEL: 'warn' },
  });
  const url = `http://127.0.0.1:${port}`;
  const db = new Client({ connectionString: platform.databaseUrl('task') });
  const kafka = new Kafka({ clientId: 'task-bench', brokers: platform.kafka.bootstraps.split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: 'task-bench-watch', maxWaitTimeInMs: 20 });
  try {
    task.start();
    await task.waitForHttp(`${url}/health/ready`, 180000);
    await db.connect();
    const token = await new AccessTokens(platform.secrets.authSecret).issue('bench', ALL_SCOPES, 3600, 'bench');

    // 1. The backlog: `open` open tasks whose timers are not due during the bench.
    await seed(db, 'open-', open, () => Date.now() + 86_400_000);
    await db.query('ANALYZE tk_task');

    // 2. Transitions through the API.
    await seed(db, 'tr-', transitions / 2, () => null);
    const latencies: number[] = [];
    const jobs = Array.from({ length: transitions / 2 }, (_, i) => `tr-${i}`);
    let next = 0;
    const post = async (id: string, to: string, version: number) => {
      const t0 = performance.now();
      const r = await fetch(`${url}/v1/tasks/${id}/transitions`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'if-match': `"${version}"` }, body: JSON.stringify({ to }) });
      latencies.push(performance.now() - t0);
      if (r.status !== 200) throw new Error(`${id} → ${to}: ${r.status} ${await r.text()}`);
    };
    const t = performance.now();
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < jobs.length) {
        const id = jobs[next++];
        await post(id, 'claimed', 1);
        await post(id, 'in-progress', 2);
      }
    }));
    const transitionSeconds = (performance.now() - t) / 1000;

    // 3. Timer lag: `dueCount` timers fall due over ~5 s from 5 s from now, among the open backlog.
    const registry = new SchemaRegistry({ host: platform.registry.url, auth: { username: platform.registry.basicAuth.split(':')[0], password: platform.registry.basicAuth.split(':').slice(1).join(':') } });
    const fired = new Map<string, number>();
    await consumer.connect();
    await consumer.subscribe({ topic: 'clinical.tasks.urgent', fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => {
      const e = await registry.decode(message.value!) as { change: string; taskId: string };
      if (e.change === 'ESCALATED' && !fired.has(e.taskId)) fired.set(e.taskId, Date.now());
    } });
    // The consumer has joined and caught up once a probe's escalation reaches it.
    await seed(db, 'probe-', 1, () => Date.now());
    await waitFor(() => fired.has('probe-0'), { what: 'the bench consumer to join and catch up', timeoutMs: 120000 });
    process.stderr.write(`[task bench] ${transitions} transitions in ${transitionSeconds.toFixed(1)} s; now the timers\n`);
    const start = Date.now() + 5000;
    const dueAt = new Map<string, number>();
    await seed(db, 'due-', dueCount, (i) => { const at = start + Math.floor((i * 5000) / dueCount); dueAt.set(`due-${i}`, at); return at; });
    await waitFor(() => [...fired.keys()].filter((k) => k.startsWith('due-')).length >= dueCount, { what: `${dueCount} escalations`, timeoutMs: 300000, intervalMs: 200 });
    const dueFired = [...fired].filter(([id]) => id.startsWith('due-'));
    const lags = dueFired.map(([id, at]) => at - dueAt.get(id)!);
    const lastFired = Math.max(...dueFired.map(([, at]) => at));
    return {
      openTasks: open, transitions, concurrency, transitionsPerSecond: Math.round(transitions / transitionSeconds),
      transitionLatencyMs: { p50: pct(latencies, 50), p95: pct(latencies, 95) },
      dueTimers: dueCount, timerLagMs: { p50: pct(lags, 50), p95: pct(lags, 95), p99: pct(lags, 99), max: Math.max(...lags) },
      timersFiredPerSecond: Math.round(dueCount / ((lastFired - start) / 1000)),
    };
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await db.end().catch(() => undefined);
    await task.stop();
    await platform.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isEntryPoint(module)) {
  runTaskBench({ open: arg('open', 100_000), due: arg('due', 500), transitions: arg('transitions', 2000), concurrency: arg('concurrency', 16) })
    .then((r) => { process.stdout.write(`${JSON.stringify(r)}\n`); process.exit(0); }, (e) => { process.stderr.write(`${(e as Error).stack}\n`); process.exit(1); });
}
