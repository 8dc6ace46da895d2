import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { ManagedProcess, freePort, repoRoot } from '@clinmesh/embedded-platform';
import { TIERS, deidentifiedTopic, stageTopic } from '@clinmesh/topology';
import { TestPipeline, serviceProcessEnv, waitFor } from '@clinmesh/testing';

const run = promisify(execFile);
const ROOT = repoRoot();
const FIXTURES = join(ROOT, '..', 'shared', 'fixtures');
const CATALOG = join(ROOT, 'libs/embedded-platform/src/platform/service-catalog.ts');
const COMPILED_CATALOG = join(ROOT, 'dist/libs/embedded-platform/src/platform/service-catalog.js');
const PRODUCERS = ['apps/ingest', 'apps/identity-resolution', 'apps/normalization', 'apps/policy', 'apps/notifier'];
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const CANONICAL_TOPICS = TIERS.map((t) => stageTopic('canonical', t));

/**
 * Issue #15 on the six real services plus the analytics sink (one pipeline for the file):
 * the shared HL7 fixtures end to end into the sink's tables, checked against the FHIR-Converter
 * expected outputs; a correction replaces a value and keeps the history; replay from earliest
 * rebuilds identical tables; a Python consumer (Debian's confluent-kafka and avro, no clinmesh
 * code) decodes every canonical record; and the Nx generator makes a new consumer that lints,
 * builds, consumes, replays and dead-letters — without touching a producer — and is removed.
 */
describe('analytics: sink, Python reader, consumer generator', { timeout: 1_500_000 }, () => {
  let pipeline: TestPipeline;
  let sink: ManagedProcess;
  let sinkUrl = '';
  let sinkDb = '';

  const dbUrl = (name: string) => pipeline.env.pgUrl.replace(/\/[^/?]+(\?|$)/, `/${name}$1`);
  const sql = async <T = Record<string, any>>(url: string, text: string, params: unknown[] = []): Promise<T[]> => {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(text, params)).rows as T[];
    } finally {
      await client.end();
    }
  };
  const createDb = async (name: string) => {
    await sql(pipeline.env.pgUrl, `CREATE DATABASE "${name}"`);
    return dbUrl(name);
  };
  const call = async (url: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method, headers: { authorization: `Bearer ${await pipeline.token()}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, json: await res.json().catch(() => null) as any };
  };
  const startConsumer = async (name: string, databaseUrl: string, extra: NodeJS.ProcessEnv = {}) => {
    const port = await freePort();
    const prefix = name.toUpperCase().replace(/-/g, '_');
    const proc = new ManagedProcess({
      name, entry: `apps/${name}/src/main.js`, logFile: join(pipeline.env.platformDir, 'logs', pipeline.name, `${name}.log`),
      env: {
        ...serviceProcessEnv(pipeline.env, pipeline.kafkaCluster), CLINMESH_CONSUMER_SESSION_TIMEOUT_MS: '6000', CLINMESH_CONSUMER_HEARTBEAT_MS: '500',
        [`${prefix}_DATABASE_URL`]: databaseUrl, [`${prefix}_HTTP_PORT`]: String(port), ...extra,
      },
    });
    const url = `http://127.0.0.1:${port}`;
    // Like the launcher, start again a process that exited while starting (under load the shared
    // registry has reset connections during schema registration); one that stays up unready fails.
    for (let attempt = 1; ; attempt += 1) {
      proc.start();
      try {
        await proc.waitForHttp(`${url}/health/ready`, 120000);
        return { proc, url };
      } catch (error) {
        if (attempt >= 3 || proc.running) throw error;
      }
    }
  };

  /** Sum of the log-end offsets of topics. */
  const highWatermarks = async (topics: string[]) => {
    const admin = pipeline.kafka().admin();
    await admin.connect();
    try {
      const per: Record<string, number> = {};
      for (const topic of topics) per[topic] = (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
      return per;
    } finally {
      await admin.disconnect();
    }
  };
  const storedOffsets = async (url: string, prefix: string) => Number((await sql<{ n: string }>(url, 'SELECT coalesce(sum(next_offset), 0) AS n FROM cm_consumer_offsets WHERE topic LIKE $1', [`${prefix}%`]))[0].n);
  const total = (per: Record<string, number>) => Object.values(per).reduce((a, b) => a + b, 0);
  /** Every stage up to the sink has consumed everything before it (dead letters included). */
  const caughtUp = async () => {
    const ingested = total(await highWatermarks(TIERS.map((t) => stageTopic('ingested', t))));
    const identified = total(await highWatermarks(TIERS.map((t) => stageTopic('identified', t))));
    const canonical = total(await highWatermarks(CANONICAL_TOPICS));
    return ingested > 0 && canonical > 0
      && (await storedOffsets(pipeline.databases['identity-resolution'], 'clinical.ingested.')) === ingested
      && (await storedOffsets(pipeline.databases.normalization, 'clinical.identified.')) === identified
      && (await storedOffsets(sinkDb, 'clinical.canonical.')) === canonical;
  };
  const TABLES = ['patients', 'encounters', 'observations', 'diagnostic_reports', 'orders', 'appointments', 'medications', 'immunizations'];
  const snapshot = async () => {
    const out: Record<string, unknown[]> = {};
    // The current rows, whole but for the replacement counter: version and history count the
    // replacements seen, which depend on the order events arrived in across tiers.
    for (const t of TABLES) out[t] = (await sql(sinkDb, `SELECT * FROM analytics.${t} ORDER BY canonical_id`)).map(({ version: _version, ...row }) => row);
    return JSON.parse(JSON.stringify(out));
  };

  before(async () => {
    pipeline = await TestPipeline.start('analytics');
    sinkDb = await createDb(`${pipeline.name}_sink`.slice(0, 63));
    ({ proc: sink, url: sinkUrl } = await startConsumer('analytics-sink', sinkDb));
  });
  after(async () => {
    await sink?.stop();
    await pipeline?.stop();
  });

  it('holds the shared HL7 fixtures as relational rows: observation code, value, unit and UTC time as FHIR-Converter has them', async () => {
    const files = readdirSync(join(FIXTURES, 'hl7v2')).filter((f) => f.endsWith('.hl7')).sort();
    for (const f of files) {
      const sent = await pipeline.sendHl7(readFileSync(join(FIXTURES, 'hl7v2', f), 'utf8').replace(/^\uFEFF/, ''));
      if (f === 'LAB-ORU-2.hl7') assert.equal(sent.status, 200, sent.ack);
    }
    await waitFor(caughtUp, { what: 'every stage and the sink caught up', timeoutMs: 300000, intervalMs: 1000 });

    // The sample: every FHIR-Converter Observation of LAB-ORU-2 with a quantity and an instant.
    const expected = JSON.parse(readFileSync(join(FIXTURES, 'hl7v2-fhir-expected', 'LAB-ORU-2.json'), 'utf8')).entry
      .map((e: any) => e.resource).filter((r: any) => r.resourceType === 'Observation' && r.valueQuantity && /T/.test(r.effectiveDateTime ?? ''));
    assert.equal(expected.length, 10);
    const rows = await sql(sinkDb, "SELECT * FROM analytics.observations WHERE record->'provenance'->>'messageId' = 'ControlID' AND source_system = 'SomeSystem'");
    for (const fhir of expected) {
      const code = fhir.code.coding[0].code;
      const row = rows.find((r) => r.loinc_code === code && Number(r.value_num) === Number(fhir.valueQuantity.value));
      assert.ok(row, `observation ${code} = ${fhir.valueQuantity.value} in the sink (have ${rows.map((r) => `${r.loinc_code}=${r.value_num}`).join(', ')})`);
      assert.equal(row.unit, fhir.valueQuantity.unit, `${code} unit as sent`);
      assert.equal(new Date(row.effective_at).getTime(), Date.parse(fhir.effectiveDateTime), `${code} time (UTC)`);
      assert.equal(row.code_system, 'http://loinc.org');
    }
    assert.equal(rows.filter((r) => r.ucum_unit === '%').length, 6, 'the six % results carry the UCUM unit %');
    // Every relational table the fixtures feed has rows, keyed by EPID.
    for (const t of TABLES) {
      const [{ n, unkeyed }] = await sql(sinkDb, `SELECT count(*)::int AS n, count(*) FILTER (WHERE epid = '')::int AS unkeyed FROM analytics.${t}`);
      assert.ok(n > 0, `analytics.${t} has rows`);
      assert.equal(unkeyed, 0);
    }
    const health = await call(sinkUrl, 'GET', '/metrics');
    assert.equal(health.status, 200);
  });

  it('a correction replaces the value and keeps the earlier one in the history', async () => {
    const oru = (control: string, at: string, value: number, status: string) => [
      `MSH|^~\\&|E2ELAB|LAB|EHR|HOSP|${at}+0000||ORU^R01|${control}|P|2.5.1`,
      'PID|1||MRN-AN-1^^^HOSP^MR||DOE^JANE||19800102|F',
      `OBR|1|PL-AN-1^EHR|FL-AN-1^LAB|2345-7^Glucose^LN|||20240301093000+0000||||||||||||||||||${status}`,
      `OBX|1|NM|2345-7^Glucose^LN||${value}|mg/dL|70-105|H|||${status}|||20240301093000+0000`,
    ].join('\r');
    assert.equal((await pipeline.sendHl7(oru('AN-0001', '20240301101500', 182, 'F'))).status, 200);
    const first = await waitFor(async () => (await sql(sinkDb, "SELECT * FROM analytics.observations WHERE source_system = 'E2ELAB' AND loinc_code = '2345-7'"))[0], { what: 'the original result', timeoutMs: 90000 });
    assert.equal(first.value_num, 182);
    assert.equal(first.effective_at.toISOString(), '2024-03-01T09:30:00.000Z');
    assert.equal((await pipeline.sendHl7(oru('AN-0002', '20240301111500', 128, 'C'))).status, 200);
    const corrected = await waitFor(async () => (await sql(sinkDb, 'SELECT * FROM analytics.observations WHERE canonical_id = $1 AND value_num = 128', [first.canonical_id]))[0], { what: 'the corrected value', timeoutMs: 90000 });
    assert.equal(corrected.correction, true);
    assert.equal(corrected.version, 2);
    const history = await sql(sinkDb, "SELECT * FROM analytics.record_history WHERE table_name = 'observations' AND canonical_id = $1", [first.canonical_id]);
    assert.equal(history.length, 1);
    assert.equal(history[0].row.value_num, 182);
    assert.equal((await sql(sinkDb, "SELECT count(*)::int AS n FROM analytics.observations WHERE source_system = 'E2ELAB'"))[0].n, 1, 'one row per canonical id');
  });

  it('replay from earliest rebuilds identical tables', async () => {
    await waitFor(caughtUp, { what: 'caught up before the snapshot', timeoutMs: 120000, intervalMs: 1000 });
    const before = await snapshot();
    await sql(sinkDb, `TRUNCATE ${[...TABLES, 'record_history', 'epid_merges'].map((t) => `analytics.${t}`).join(', ')}`);
    for (const tier of TIERS) assert.equal((await call(sinkUrl, 'POST', '/v1/admin/replay', { tier, to: 'earliest' })).status, 201);
    assert.equal((await call(sinkUrl, 'POST', '/v1/admin/replay', { consumer: 'identity-events', to: 'earliest' })).status, 201);
    const rebuilt = await waitFor(async () => {
      const now = await snapshot();
      return JSON.stringify(now) === JSON.stringify(before) ? now : undefined;
    }, { what: 'tables rebuilt identical to the snapshot', timeoutMs: 180000, intervalMs: 1000 });
    assert.ok((rebuilt.observations as unknown[]).length > 10);
  });

  it('a Python consumer (Debian python3-confluent-kafka + python3-avro, no clinmesh code) decodes every canonical record with the registry schema', async () => {
    const counts = await highWatermarks(CANONICAL_TOPICS);
    const expected = total(counts);
    const { stdout } = await run(PYTHON, [
      join(ROOT, 'examples/python-consumer/consumer.py'), '--bootstrap', pipeline.kafkaCluster.bootstraps, '--registry', pipeline.env.registryUrl,
      '--registry-auth', pipeline.env.registryBasicAuth, '--expect', String(expected), '--idle-seconds', '30',
    ], { timeout: 180000, maxBuffer: 64 * 1024 * 1024 });
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
    const summary = lines.at(-1).summary;
    assert.equal(summary.failed, 0);
    assert.equal(summary.decoded, expected);
    for (const [topic, n] of Object.entries(counts)) assert.equal(summary.perTopic[topic] ?? 0, n, topic);
    const records = lines.slice(0, -1);
    assert.ok(records.every((r) => r.eventId && r.epid === r.key && typeof r.schemaId === 'number'));
    const basophils = records.flatMap((r) => r.observations).find((o: any) => o.codes.includes('30180-4'));
    assert.deepEqual({ value: basophils.value, ucum: basophils.ucum, effective: basophils.effective }, { value: 0, ucum: '%', effective: Date.parse('2014-10-06T08:30:00+07:00') });
  });

  it('research mode: a second sink on the de-identified topics holds Safe Harbor rows under per-audience pseudonyms — never an identified EPID or a patient name', async () => {
    const researchDb = await createDb(`${pipeline.name}_research`.slice(0, 63));
    const { proc } = await startConsumer('analytics-sink', researchDb, { ANALYTICS_SINK_TOPICS: 'deidentified' });
    try {
      const topics = TIERS.map((t) => deidentifiedTopic(t));
      await waitFor(async () => {
        const high = total(await highWatermarks(topics));
        return high > 0 && (await storedOffsets(researchDb, 'clinical.deidentified.')) === high;
      }, { what: 'the research sink caught up with the de-identified topics', timeoutMs: 180000, intervalMs: 500 });
      const rows = await sql<{ epid: string; loinc_code: string | null }>(researchDb, 'SELECT epid, loinc_code FROM analytics.observations');
      assert.ok(rows.length > 0, 'research views of the results were stored');
      for (const r of rows) assert.match(r.epid, /^psn-/, 'keyed by the audience pseudonym');
      const identified = new Set((await sql<{ epid: string }>(sinkDb, 'SELECT DISTINCT epid FROM analytics.observations')).map((r) => r.epid));
      assert.ok(rows.every((r) => !identified.has(r.epid)), 'no identified EPID in the research tables');
      assert.ok(rows.some((r) => r.loinc_code), 'the clinical content stays');
      const families = (await sql<{ record: { names?: Array<{ family?: string }> } }>(sinkDb, 'SELECT record FROM analytics.patients'))
        .flatMap((r) => (r.record.names ?? []).map((n) => n.family)).filter((f): f is string => !!f && f.length > 2);
      assert.ok(families.length > 0);
      const research = JSON.stringify(await sql(researchDb, 'SELECT record FROM analytics.patients UNION ALL SELECT record FROM analytics.observations'));
      for (const family of families) assert.ok(!research.includes(`"${family}"`), `the name ${family} is not in the research tables`);
    } finally {
      await proc.stop();
    }
  });

  it('the Nx generator makes a consumer that lints, builds, consumes, replays and dead-letters, touching no producer; it is removed afterwards', async () => {
    const name = `gen-e2e-${Date.now().toString(36)}`;
    const appDir = join(ROOT, 'apps', name);
    const git = (args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' });
    const producersClean = () => { try { execFileSync('git', ['diff', '--quiet', '--', ...PRODUCERS], { cwd: ROOT }); return true; } catch { return false; } };
    let generated: ManagedProcess | undefined;
    const genDbName = `${pipeline.name}_gen`.slice(0, 63);
    // Others may be editing a shared working tree: the git check is exact in a clean checkout (CI).
    const cleanBefore = producersClean() && git(['status', '--porcelain', '--', ...PRODUCERS]) === '';
    // The build below compiles the catalogue with the generated service in it; the files after this
    // one start the launcher from dist, so the compiled catalogue is put back as it was.
    const compiledCatalog = [COMPILED_CATALOG, `${COMPILED_CATALOG}.map`].filter(existsSync).map((f) => [f, readFileSync(f)] as const);
    try {
      const { stdout: log } = await run('npx', ['nx', 'g', '@clinmesh/nx-plugin:consumer', name, '--topics', 'canonical', '--tiers', 'stat,urgent,routine,bulk', '--resource', 'Observation', '--no-interactive'], { cwd: ROOT, timeout: 180000 });
      // What the generator wrote (Nx lists every file): its app and the catalogue entry, nothing else.
      // Nx colours its output when it thinks it may (CI=true does): compare the plain text.
      const written = [...log.replace(/\x1b\[[0-9;]*m/g, '').matchAll(/^(?:CREATE|UPDATE|DELETE) (\S+)/gm)].map((m) => m[1]);
      assert.ok(written.length >= 10, log);
      assert.deepEqual(written.filter((f) => !f.startsWith(`apps/${name}/`) && f !== 'libs/embedded-platform/src/platform/service-catalog.ts'), []);
      assert.ok(existsSync(join(appDir, 'src', `${name}.consumers.ts`)));
      for (const f of ['domain', 'application', 'adapters/persistence', 'config', 'testing', 'main.ts', `${name}.service.ts`]) assert.ok(existsSync(join(appDir, 'src', f)), f);
      assert.ok(existsSync(join(appDir, 'README.md')));
      assert.match(readFileSync(CATALOG, 'utf8'), new RegExp(`'${name}'`), 'registered in the launcher catalogue');
      // git: no producer file changed.
      if (cleanBefore) assert.equal(producersClean() && git(['status', '--porcelain', '--', ...PRODUCERS]) === '', true, 'git diff --quiet -- <producers>');

      // Lint with the module boundaries (the project's own target), and prove the rule bites in it.
      await run('npx', ['nx', 'run', `${name}:lint`, '--skip-nx-cache', '--outputStyle=static'], { cwd: ROOT, timeout: 300000 });
      writeFileSync(join(appDir, 'src', 'leak.ts'), "import { taskService } from '../../task/src/task.service';\nexport const leak = taskService;\n");
      const leak = await run('npx', ['eslint', join(appDir, 'src', 'leak.ts')], { cwd: ROOT, timeout: 120000 }).then(() => '', (e) => String(e.stdout));
      assert.match(leak, /enforce-module-boundaries/);
      rmSync(join(appDir, 'src', 'leak.ts'));

      // Build (tsc) the workspace incrementally, as `npm run build` does, now with the generated app;
      // only its own diagnostics count (others' areas may be mid-edit in a shared tree).
      const tsc = await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, timeout: 900000, maxBuffer: 64 * 1024 * 1024 })
        .then((r) => r.stdout, (e) => {
          if (e.killed || e.signal) throw new Error(`tsc did not finish: ${e.signal ?? 'killed'}`);
          return String(e.stdout);
        });
      assert.deepEqual(tsc.split('\n').filter((l) => l.startsWith(`apps/${name}/`)), []);
      assert.ok(existsSync(join(ROOT, 'dist', 'apps', name, 'src', 'main.js')));
      // Its generated unit specs pass.
      await run(process.execPath, ['-r', join(ROOT, 'tools/register.js'), '--test', join(ROOT, 'dist/apps', name, 'src/application'), join(ROOT, 'dist/apps', name, 'src/config')].filter(existsSync), { cwd: ROOT, timeout: 120000 })
        .catch((e) => assert.fail(`generated unit specs: ${e.stdout}`));

      // Started against the embedded platform it consumes the canonical events already on the topics.
      const genDb = await createDb(genDbName);
      const started = await startConsumer(name, genDb);
      generated = started.proc;
      const table = `${name.replace(/-/g, '_')}_observation`;
      const observations = (await sql<{ n: number }>(sinkDb, 'SELECT count(*)::int AS n FROM analytics.observations'))[0].n;
      const count = async () => (await sql<{ n: number }>(genDb, `SELECT count(*)::int AS n FROM ${table}`))[0].n;
      await waitFor(async () => (await count()) === observations, { what: `${table} holds every observation (${observations})`, timeoutMs: 180000, intervalMs: 1000 });
      const metrics = await fetch(`${started.url}/metrics`, { headers: { authorization: `Bearer ${await pipeline.token()}` } }).then((r) => r.text());
      const stored = Number(new RegExp(`^clinmesh_${name.replace(/-/g, '_')}_records_stored_total(?:\\{[^}]*\\})? (\\d+)`, 'm').exec(metrics)?.[1] ?? -1);
      assert.ok(stored >= observations, `records stored metric ${stored} ≥ ${observations}`);

      // Replay from earliest rebuilds its table.
      await sql(genDb, `TRUNCATE ${table}`);
      for (const tier of TIERS) assert.equal((await call(started.url, 'POST', '/v1/admin/replay', { tier, to: 'earliest' })).status, 201);
      await waitFor(async () => (await count()) === observations, { what: 'its table rebuilt by the replay', timeoutMs: 180000, intervalMs: 1000 });

      // Dead-letter path: bytes that are not Avro are kept with their reason; the partition moves on.
      const producer = pipeline.kafka().producer();
      await producer.connect();
      await producer.send({ topic: stageTopic('canonical', 'stat'), messages: [{ key: 'poison', value: Buffer.from('not avro') }] });
      await producer.disconnect();
      const dead = await waitFor(async () => (await call(started.url, 'GET', '/v1/admin/dead-letters?status=dead')).json?.deadLetters?.find?.((d: any) => d.topic === stageTopic('canonical', 'stat'))
        ?? (await sql(genDb, "SELECT * FROM cm_dead_letters WHERE topic = 'clinical.canonical.stat'"))[0], { what: 'the poison dead-lettered', timeoutMs: 90000 });
      assert.match(JSON.stringify(dead), /SERDE\.NOT_CONFLUENT_AVRO/);
      await waitFor(async () => (await storedOffsets(genDb, 'clinical.canonical.stat')) === (await highWatermarks([stageTopic('canonical', 'stat')]))[stageTopic('canonical', 'stat')], { what: 'the partition moved past the poison', timeoutMs: 60000 });
    } finally {
      await generated?.stop();
      rmSync(appDir, { recursive: true, force: true });
      rmSync(join(ROOT, 'dist', 'apps', name), { recursive: true, force: true });
      // Only the generator's lines come out of the catalogue (others may edit it meanwhile).
      const catalog = readFileSync(CATALOG, 'utf8');
      if (catalog.includes(`'${name}'`)) writeFileSync(CATALOG, catalog.split('\n').filter((l) => !l.includes(`'${name}'`)).join('\n'));
      for (const [file, content] of compiledCatalog) writeFileSync(file, content);
      await sql(pipeline.env.pgUrl, `DROP DATABASE IF EXISTS "${genDbName}" WITH (FORCE)`).catch(() => undefined);
    }
    assert.equal(existsSync(appDir), false);
    assert.doesNotMatch(readFileSync(CATALOG, 'utf8'), new RegExp(`'${name}'`));
    assert.doesNotMatch(readFileSync(COMPILED_CATALOG, 'utf8'), new RegExp(`'${name}'`), 'the compiled catalogue no longer starts it');
  });
});
