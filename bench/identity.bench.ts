/**
 * EMPI accuracy + throughput benchmark on FEBRL synthetic data.
 *
 *   node tools/run.js bench/identity.bench.js --dataset <file.csv> [--link <file.csv>] [--out <file.csv>]
 *        [--store memory|pg|sql] [--pg-url <url>] [--estimate] [--upper <w>] [--lower <w>] [--no-trusted]
 *
 * Records stream one at a time through the real MatchEngine (online, as
 * messages would arrive); with --link every record of the first file goes
 * first, then the second. Accuracy is pairwise against the FEBRL truth
 * (rec-<n>-org / rec-<n>-dup-<k> share <n>, per file). The last line printed
 * is one JSON object with the figures. --estimate runs EM on the input and
 * prints the estimated m/u (how DEFAULT_MATCH_CONFIG was derived) to stderr
 * without using it for matching. --store sql runs each record the way the
 * identity-resolution service does: its own transaction, advisory locks on
 * the record's blocking keys, candidate search and save through
 * SqlCandidateStore, commit. --upper/--lower override the thresholds
 * (tuning sweeps); --no-trusted disables the trusted-identifier rule so the
 * probabilistic path alone is measured.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  DEFAULT_MATCH_CONFIG, estimateParameters, InMemoryCandidateStore, MatchEngine, pairwiseAccuracy, parseFebrlCsv, PgCandidateStore,
  SqlCandidateStore, blockingKeys, normalizeRecord, EMPI_PG_MIGRATION, type CandidateStore, type FebrlRow, type PersonRecord,
} from '@clinmesh/empi';

interface Args {
  dataset?: string;
  link?: string;
  out?: string;
  store: 'memory' | 'pg' | 'sql';
  pgUrl?: string;
  estimate: boolean;
  upper?: number;
  lower?: number;
  noTrusted: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { store: 'memory', estimate: false, noTrusted: false };
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
    else if (a === '--store') args.store = next() as Args['store'];
    else if (a === '--pg-url') args.pgUrl = next();
    else if (a === '--estimate') args.estimate = true;
    else if (a === '--upper') args.upper = Number(next());
    else if (a === '--lower') args.lower = Number(next());
    else if (a === '--no-trusted') args.noTrusted = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!args.dataset) throw new Error('usage: identity.bench.js --dataset <file.csv> [--link <file.csv>] [--out <file.csv>] [--store memory|pg] [--pg-url <url>]');
  if (!['memory', 'pg', 'sql'].includes(args.store)) throw new Error('--store must be memory, pg or sql');
  return args;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
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

/** The service's path: one transaction per record, blocking-key advisory locks, SqlCandidateStore inside it. */
async function openSqlStore(url: string): Promise<{ store: SqlCandidateStore; inTransaction: <T>(fn: (s: SqlCandidateStore) => Promise<T>) => Promise<T>; close: () => Promise<void> }> {
  const { Client } = await import('pg');
  const db = await createThrowawayDatabase(url);
  const client = new Client({ connectionString: db.url });
  await client.connect();
  await client.query(EMPI_PG_MIGRATION);
  const store = new SqlCandidateStore({ query: async <T>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as T[] });
  return {
    store,
    inTransaction: async (fn) => {
      await client.query('BEGIN');
      try {
        const out = await fn(store);
        await client.query('COMMIT');
        return out;
      } catch (e) {
        await client.query('ROLLBACK');
        throw e;
      }
    },
    close: async () => {
      await client.end();
      await db.drop();
    },
  };
}

async function openPgStore(url: string): Promise<{ store: CandidateStore; close: () => Promise<void> }> {
  const { Pool } = await import('pg');
  const db = await createThrowawayDatabase(url);
  const pool = new Pool({ connectionString: db.url, max: 4 });
  const store = new PgCandidateStore(pool);
  await store.migrate();
  return {
    store,
    close: async () => {
      await pool.end();
      await db.drop();
    },
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const files = [args.dataset!, ...(args.link ? [args.link] : [])];
  // Per-file namespaces: FEBRL files are generated independently, rec-<n> of one is not rec-<n> of another.
  const rows: FebrlRow[] = files.flatMap((file, i) => parseFebrlCsv(readFileSync(file, 'utf8'), files.length > 1 ? `f${i + 1}` : 'febrl'));

  if (args.estimate) {
    const est = estimateParameters(rows.map((r) => r.record), { randomPairs: 200_000, seed: 42 });
    const rounded = Object.fromEntries(Object.entries(est.config.comparisons).map(([name, levels]) => [
      name,
      Object.fromEntries(Object.entries(levels as Record<string, { m: number; u: number }>).map(([l, p]) => [l, { m: +p.m.toPrecision(3), u: +p.u.toPrecision(3) }])),
    ]));
    process.stderr.write(`${JSON.stringify({ lambda: est.lambda, iterations: est.iterations, converged: est.converged, candidatePairs: est.candidatePairs, comparisons: rounded }, null, 1)}\n`);
  }

  let store: CandidateStore;
  let close = async () => {};
  let runInTransaction: (<T>(fn: () => Promise<T>) => Promise<T>) | undefined;
  let lockKeys: ((record: PersonRecord) => Promise<void>) | undefined;
  if (args.store === 'sql') {
    const url = args.pgUrl ?? process.env.CLINMESH_TEST_PG_URL;
    if (!url) throw new Error('--store sql needs --pg-url or CLINMESH_TEST_PG_URL');
    const sql = await openSqlStore(url);
    store = sql.store;
    close = sql.close;
    runInTransaction = (fn) => sql.inTransaction(() => fn());
    lockKeys = (record) => sql.store.lockKeys(blockingKeys(normalizeRecord(record), engineConfig()));
  } else if (args.store === 'pg') {
    const url = args.pgUrl ?? process.env.CLINMESH_TEST_PG_URL;
    if (!url) throw new Error('--store pg needs --pg-url or CLINMESH_TEST_PG_URL');
    ({ store, close } = await openPgStore(url));
  } else {
    store = new InMemoryCandidateStore();
  }

  let next = 0;
  // eslint-disable-next-line prefer-const
  let engine: MatchEngine;
  function engineConfig() {
    return engine.config;
  }
  engine = new MatchEngine({
    store,
    personIdGenerator: () => `P${++next}`,
    config: {
      ...(args.upper !== undefined || args.lower !== undefined
        ? { thresholds: { upper: args.upper ?? DEFAULT_MATCH_CONFIG.thresholds.upper, lower: args.lower ?? Math.min(args.upper ?? Infinity, DEFAULT_MATCH_CONFIG.thresholds.lower) } }
        : {}),
      ...(args.noTrusted ? { trustedIdentifiers: [] } : {}),
    },
  });
  const predicted = new Map<string, string>();
  const truth = new Map<string, string>();
  const latencies: number[] = [];
  const methods: Record<string, number> = {};
  let reviews = 0;
  const started = performance.now();
  try {
    for (const row of rows) {
      const t0 = performance.now();
      const result = runInTransaction
        ? await runInTransaction(async () => {
          await lockKeys!(row.record);
          return engine.match(row.record);
        })
        : await engine.match(row.record);
      latencies.push(performance.now() - t0);
      predicted.set(row.record.recordId, result.personId);
      truth.set(row.record.recordId, row.entity);
      methods[result.method] = (methods[result.method] ?? 0) + 1;
      if (result.decision === 'review') reviews++;
    }
  } finally {
    await close();
  }
  const elapsedMs = performance.now() - started;
  const acc = pairwiseAccuracy(truth, predicted);
  latencies.sort((a, b) => a - b);
  const summary = {
    bench: 'identity',
    dataset: basename(args.dataset!),
    link: args.link ? basename(args.link) : null,
    store: args.store,
    thresholds: engine.config.thresholds,
    trustedIdentifierRule: !args.noTrusted,
    records: rows.length,
    truePairs: acc.truePairs,
    predictedPairs: acc.predictedPairs,
    truePositives: acc.truePositives,
    precision: +acc.precision.toFixed(4),
    recall: +acc.recall.toFixed(4),
    f1: +acc.f1.toFixed(4),
    reviewItems: reviews,
    methods,
    recordsPerSecond: Math.round((rows.length / elapsedMs) * 1000),
    p50LatencyMs: +percentile(latencies, 50).toFixed(3),
    p99LatencyMs: +percentile(latencies, 99).toFixed(3),
  };

  if (args.out) {
    const byRecord = new Map(rows.map((r) => [r.record.recordId, r.recId]));
    writeFileSync(args.out, `rec_id,epid\n${[...predicted].map(([id, p]) => `${byRecord.get(id)},${p}`).join('\n')}\n`);
  }
  console.log(`records            ${summary.records} (${files.map((f) => basename(f)).join(' then ')}, store ${summary.store})`);
  console.log(`pairs              true ${acc.truePairs}, predicted ${acc.predictedPairs}, correct ${acc.truePositives}`);
  console.log(`precision          ${summary.precision}`);
  console.log(`recall             ${summary.recall}`);
  console.log(`F1                 ${summary.f1}`);
  console.log(`review items       ${reviews}`);
  console.log(`methods            ${JSON.stringify(methods)}`);
  console.log(`throughput         ${summary.recordsPerSecond} records/s`);
  console.log(`match latency      p50 ${summary.p50LatencyMs} ms, p99 ${summary.p99LatencyMs} ms`);
  console.log(JSON.stringify(summary));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack ?? error.message : error);
  process.exitCode = 1;
});
