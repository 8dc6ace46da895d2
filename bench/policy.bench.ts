/**
 * Policy throughput, two figures on the same canonical events (every HL7 v2
 * fixture mapped by the real canonical mappers, patients cycling over 500
 * EPIDs, a consent for one patient in five, an HIV result in one event in ten):
 *
 * - decision function alone: `decide` + the projected view of every permitted
 *   audience (minimum necessary, redaction, Safe Harbor), in memory;
 * - through the service's handler: the same handler the canonical consumers run,
 *   in PostgreSQL transactions of 100 events (as the runtime chunks them): active
 *   consents and break-glass grants read per event, decisions written, every
 *   routed / de-identified view and decision record Avro-encoded as the outbox
 *   would. Kafka itself is not in the figure (the normalization and pipeline
 *   benches measure hops).
 *
 *   node tools/run.js bench/policy.bench.js [--events 3000]
 *
 * Starts a throwaway embedded PostgreSQL unless CLINMESH_TEST_PG_URL is set.
 * Prints one JSON line.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { DEFAULT_TERMINOLOGY, TerminologyMaps, mapToCanonical } from '@clinmesh/canonical';
import { findSchemasDir, loadSchemaCatalog, type CanonicalEvent, type IdentifiedEvent } from '@clinmesh/schemas';
import { EventRuntimeTables1732200000000, eventContext, inTransaction, type InboundEvent } from '@clinmesh/event-runtime';
import { sourcePatientKey } from '@clinmesh/security';
import { toCanonicalEvent } from '../apps/normalization/src/domain/canonical-envelope.mapper';
import { loadPolicyFiles } from '../apps/policy/src/adapters/files/policy-files';
import { PolicyTables1764370000000 } from '../apps/policy/src/adapters/persistence/policy.tables';
import { policyStores } from '../apps/policy/src/adapters/persistence/policy.repositories';
import { PolicyStore } from '../apps/policy/src/application/policy-store';
import { RouteCanonicalEventHandler, decisionInput } from '../apps/policy/src/application/route-canonical-event.handler';
import { decide } from '../apps/policy/src/domain/decide';
import { projectView } from '../apps/policy/src/domain/views';
import { isEntryPoint } from './bench-entry';

export interface PolicyBenchResult {
  events: number;
  audienceDecisionsPerEvent: number;
  decisionFunctionEventsPerSecond: number;
  decisionFunctionDecisionsPerSecond: number;
  serviceHandlerEventsPerSecond: number;
  serviceHandlerDecisionsPerSecond: number;
  routedViewsPerEvent: number;
  /** The normalization mapping (HL7 v2 → canonical records) in the same process and run: the stage before policy. */
  normalizationMappingEventsPerSecond: number;
  /** Service-handler events/s over mapping events/s: above 1, policy is not the binding stage. */
  policyOverNormalizationMapping: number;
}

/** The canonical events, and how fast the normalization mapping that made them ran in this same process (the stage before policy). */
function canonicalEvents(n: number): { events: CanonicalEvent[]; mappingEventsPerSecond: number } {
  const fixtures = join(findSchemasDir(), '..', '..', 'shared', 'fixtures', 'hl7v2');
  const raws = readdirSync(fixtures).filter((f) => f.endsWith('.hl7')).map((f) => readFileSync(join(fixtures, f), 'utf8'));
  const hiv = 'OBX|9|ST|7917-8^HIV 1 Ab^LN||Positive||||N|||F\r';
  const terminology = new TerminologyMaps(DEFAULT_TERMINOLOGY);
  const out: CanonicalEvent[] = [];
  let mappingMs = 0;
  for (let i = 0; out.length < n; i++) {
    let raw = raws[i % raws.length];
    if (i % 10 === 0 && /\rOBR\|/.test(raw)) raw = raw.replace(/\r?$/, '\r') + hiv;
    const type = /^MSH(?:\|[^|]*){7}\|([^|^]*)\^?([^|^]*)/.exec(raw);
    const messageType = type ? `${type[1]}^${type[2]}` : 'ADT^A01';
    const epid = `EP-${i % 500}`;
    try {
      const started = performance.now();
      const mapping = mapToCanonical({ format: 'HL7V2', raw: Buffer.from(raw), messageType, messageId: `C-${i}`, sourceSystem: 'BENCH', sourceFacility: 'B', epid }, { terminology, senderTimeZone: 'America/Chicago' });
      const identified = {
        eventId: `idf-${i}`, correlationId: `corr-${i}`, epid, tier: 'routine',
        ingested: { receivedAt: Date.now(), source: { system: 'BENCH', facility: 'B', channel: 'MLLP' }, format: 'HL7V2', messageType, controlId: `C-${i}`, version: '2.5.1' },
      } as unknown as IdentifiedEvent;
      out.push({ eventId: `can-${i}`, ...toCanonicalEvent(identified, mapping) });
      mappingMs += performance.now() - started;
    } catch {
      // fixtures the mapper refuses are not canonical events
    }
  }
  return { events: out, mappingEventsPerSecond: Math.round(out.length / (mappingMs / 1000)) };
}

async function postgres(): Promise<{ url: string; stop: () => Promise<void> }> {
  const given = process.env.CLINMESH_TEST_PG_URL;
  const { Client } = await import('pg');
  let server: { url: string; stop: () => Promise<void> };
  if (given) server = { url: given, stop: async () => {} };
  else {
    const { startEmbeddedPostgres, freePort } = await import('@clinmesh/embedded-platform');
    const dir = mkdtempSync(join(tmpdir(), 'clinmesh-policy-bench-'));
    const pg = await startEmbeddedPostgres({ dataDir: dir, port: await freePort() });
    server = { url: pg.superuserUrl, stop: async () => { await pg.stop(); rmSync(dir, { recursive: true, force: true }); } };
  }
  const db = `policy_bench_${Date.now()}_${randomBytes(3).toString('hex')}`;
  const admin = new Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${db}`);
  const url = new URL(server.url);
  url.pathname = `/${db}`;
  return {
    url: url.toString(),
    stop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${db}`);
      await admin.end();
      await server.stop();
    },
  };
}

export async function runPolicyBench(n = 3000): Promise<PolicyBenchResult> {
  const files = loadPolicyFiles(join(findSchemasDir(), '..', 'apps', 'policy', 'policy'));
  const policy = files.policy;
  const { events, mappingEventsPerSecond } = canonicalEvents(n);
  const catalog = loadSchemaCatalog();
  const routedType = catalog.type('RoutedEvent');
  const decisionType = catalog.type('PolicyDecisionEvent');
  const secret = 'bench-pseudonym-secret-0123456789';

  // 1. The decision function alone (+ the views it implies).
  let decisions = 0;
  for (const e of events.slice(0, 200)) decide(policy, decisionInput(e), [], [], Date.now()); // warm-up
  let t = performance.now();
  for (const e of events) {
    const d = decide(policy, decisionInput(e), [], [], Date.now());
    for (const a of d.perAudience) {
      decisions++;
      if (a.effect !== 'DENY') projectView(e, policy.set.projections[a.projection], { withheld: a.withheldLabels, recordLabels: d.recordLabels, pseudonymSecret: secret, audience: a.audience });
    }
  }
  const pureSeconds = (performance.now() - t) / 1000;

  // 2. Through the service's handler with PostgreSQL.
  const pg = await postgres();
  const dataSource = new DataSource({ type: 'postgres', url: pg.url, migrations: [EventRuntimeTables1732200000000, PolicyTables1764370000000], migrationsTableName: 'cm_migrations', extra: { max: 4 } });
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'all' });
  try {
    const store = new PolicyStore(files.validator, policy, files.identifierSystems);
    const handler = new RouteCanonicalEventHandler(store, policyStores, secret);
    // One consent in five patients (care coordination denied), as realistic reads.
    for (let p = 0; p < 500; p += 5) {
      await dataSource.query(
        `INSERT INTO pl_consent (id, version, status, patient_keys, patient_system, epid, resource, provision, recorded_by) VALUES ($1, 1, 'active', $2, 'urn:x', $3, '{}'::jsonb, $4::jsonb, 'bench')`,
        [`consent-${p}`, [sourcePatientKey(secret, 'BENCH', String(p))], `EP-${p}`, JSON.stringify({ type: 'permit', audiences: [], actions: [], securityLabels: [], purposes: [], classes: [], codes: [], provisions: [{ type: 'deny', audiences: ['care-coordination'], actions: [], securityLabels: [], purposes: [], classes: [], codes: [], provisions: [] }] })],
      );
    }
    let emitted = 0;
    const chunk = 100;
    const run = async (list: CanonicalEvent[], salt: string) => {
      for (let i = 0; i < list.length; i += chunk) {
        await inTransaction(dataSource, async (uow) => {
          const inbounds = list.slice(i, i + chunk).map((e) => ({ eventId: `${e.eventId}-${salt}`, correlationId: e.correlationId, tier: e.tier, topic: 'clinical.canonical.routine', partition: 0, offset: 0, key: e.epid, headers: {}, schemaId: 1, value: e }) as InboundEvent<CanonicalEvent>);
          await handler.prepare(inbounds, uow);
          for (const inbound of inbounds) {
            const e = inbound.value;
            const sink: Array<{ topic: string; value: unknown }> = [];
            await handler.handle(inbound, eventContext(uow, { id: inbound.eventId, correlationId: e.correlationId, tier: e.tier }, sink as never));
            for (const out of sink) {
              (out.topic === 'clinical.policy.decisions' ? decisionType : routedType).toBuffer(out.value);
              if (out.topic !== 'clinical.policy.decisions') emitted++;
            }
          }
          // As the consumer's complete step: the chunk's decisions and held views, written set-based.
          await handler.complete(uow);
        });
      }
    };
    await run(events.slice(0, 200), 'warm');
    emitted = 0;
    t = performance.now();
    await run(events, 'run');
    const serviceSeconds = (performance.now() - t) / 1000;
    return {
      events: events.length,
      audienceDecisionsPerEvent: Math.round((decisions / events.length) * 100) / 100,
      decisionFunctionEventsPerSecond: Math.round(events.length / pureSeconds),
      decisionFunctionDecisionsPerSecond: Math.round(decisions / pureSeconds),
      serviceHandlerEventsPerSecond: Math.round(events.length / serviceSeconds),
      serviceHandlerDecisionsPerSecond: Math.round(decisions / serviceSeconds),
      routedViewsPerEvent: Math.round((emitted / events.length) * 100) / 100,
      normalizationMappingEventsPerSecond: mappingEventsPerSecond,
      policyOverNormalizationMapping: Math.round((events.length / serviceSeconds / mappingEventsPerSecond) * 100) / 100,
    };
  } finally {
    await dataSource.destroy();
    await pg.stop();
  }
}

if (isEntryPoint(module)) {
  const i = process.argv.indexOf('--events');
  runPolicyBench(i > 0 ? Number(process.argv[i + 1]) : 3000).then(
    (r) => process.stdout.write(`${JSON.stringify({ policy: r })}\n`),
    (e) => { process.stderr.write(`${(e as Error).stack}\n`); process.exit(1); },
  );
}
