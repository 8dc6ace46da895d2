/**
 * The identity service's own consumer path for `identity.bench --store service`: the service's
 * consumer definitions (`identityConsumers`) run by the runtime's BatchProcessor against PostgreSQL
 * and a schema registry, exactly as a consumed chunk runs in the service — Avro decode, the inbox
 * check, the chunk's blocking-key locks, set-based matching (`MasterPatientIndex.assignChunk`),
 * persons, records, keys, links and review items, the identified and identity events encoded into
 * the outbox, and the inbox rows and stored offsets, all in one transaction per chunk.
 *
 * Each record arrives as an ingested FHIR Patient (identifier MR plus SSN, name, birth date, gender,
 * address, phone), so the service's own demographics reader runs too. Left out: the Kafka fetch
 * (the messages are handed to the processor), and the relay publishing the outbox afterwards.
 * Results are read back from the outbox: each record's EPID from its identified event, review
 * items from the REVIEW_REQUIRED identity events — what a downstream consumer would see.
 */
import { createHmac } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import type { Logger as TypeOrmLogger } from 'typeorm';
import type { PersonRecord } from '@clinmesh/empi';
import {
  AvroSerde, BatchProcessor, OutboxWriter, RetryPolicy, deriveEventId, inTransaction, metadataToHeaders,
} from '@clinmesh/event-runtime';
import { RuntimeMetrics, createLogger } from '@clinmesh/observability';
import { loadSchemaCatalog, type IdentifiedEvent, type IdentityEvent, type IngestedEvent } from '@clinmesh/schemas';
import { createSchemaRegistryServer } from '@clinmesh/schema-registry';
import { serviceDataSource } from '@clinmesh/service-kit';
import { EVENT_TOPICS, stageTopic, topologyTopics } from '@clinmesh/topology';
import { MasterPatientIndex } from '../apps/identity-resolution/src/application/master-patient-index';
import { IDENTITY_MIGRATIONS } from '../apps/identity-resolution/src/adapters/persistence/identity.migrations';
import { PersonIndexRepository } from '../apps/identity-resolution/src/adapters/persistence/person-index.repository';
import { SSN_SYSTEM } from '../apps/identity-resolution/src/domain/patient-demographics.model';
import { identityConsumers } from '../apps/identity-resolution/src/identity.consumers';

const TIER = 'routine' as const;
const TOPIC = stageTopic('ingested', TIER);
const MRN_SYSTEM = 'urn:oid:2.16.840.1.113883.19.5.99';
const SOURCE = 'REGISTRATION';
/** The service's HMAC secret for source patient keys: any value, the bench maps keys back to records. */
const PATIENT_KEY_SECRET = 'identity-bench';

/** What the service decided for one record, as read back from its outbox. */
export interface ServiceOutcome {
  epid: string;
  method: string;
  review: boolean;
}

export interface ServicePath {
  /** Encodes records as the ingested events ingest would publish (untimed: the producer's work). */
  encode(records: PersonRecord[]): Promise<KafkaMessage[]>;
  /** One consumed chunk through the service's consumer, one transaction. */
  processChunk(messages: KafkaMessage[]): Promise<void>;
  /** The operator command: a new name-frequency snapshot of the index, used from now on. */
  refreshFrequencies(): Promise<void>;
  /** VACUUM ANALYZE, as autovacuum would have done for tables that grew over time. */
  maintain(): Promise<void>;
  /** Each record's outcome (by record id), read from the outbox. */
  outcomes(recordIds: string[]): Promise<Map<string, ServiceOutcome>>;
  /** SQL statements the path has sent so far. */
  statements(): number;
  /** CPU time (ms) of the PostgreSQL backend serving the consumer, or undefined. */
  backendCpuMs(): number | undefined;
  close(): Promise<void>;
}

/**
 * Opens the path on two throwaway databases of `database` (the service's and the registry's): runs the
 * service's migrations, starts an in-process schema registry on a loopback port and registers the topics.
 */
export async function openServicePath(
  database: () => Promise<{ url: string; drop: () => Promise<void> }>, chunkSize: number, backendCpu: (pid: number) => number | undefined,
): Promise<ServicePath> {
  const serviceDb = await database();
  const registryDb = await database();
  let statements = 0;
  const counting: TypeOrmLogger = {
    logQuery: () => void statements++, logQueryError: () => undefined, logQuerySlow: () => undefined,
    logSchemaBuild: () => undefined, logMigration: () => undefined, log: () => undefined,
  };
  // The service's own DataSource (session settings, runtime and audit tables). One connection: the consumer's
  // transactions run one after another, and its backend's CPU is measurable.
  const dataSource = serviceDataSource({ service: 'identity-resolution', url: serviceDb.url, migrations: IDENTITY_MIGRATIONS, poolSize: 1, statementLogger: counting });
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'all' });
  const backendPid = Number((await dataSource.query('SELECT pg_backend_pid() AS pid'))[0].pid);

  const registry = createSchemaRegistryServer({ databaseUrl: registryDb.url, port: 0 });
  const { url: registryUrl } = await registry.listen();
  const catalog = loadSchemaCatalog();
  const serde = new AvroSerde({ url: registryUrl }, catalog);
  await serde.registerTopics(topologyTopics().filter((t) => [TOPIC, stageTopic('identified', TIER), EVENT_TOPICS.identity, EVENT_TOPICS.operations].includes(t.name)));

  const index = new MasterPatientIndex();
  const definition = identityConsumers(index, PATIENT_KEY_SECRET, chunkSize).find((d) => d.tier === TIER)!;
  const metrics = new RuntimeMetrics('identity-resolution');
  const processor = new BatchProcessor(
    { service: 'identity-resolution', dataSource, serde, outbox: new OutboxWriter(serde, () => undefined), metrics, logger: createLogger('identity-bench', 'warn'), clusterId: () => 'identity-bench' },
    `identity-resolution.${TIER}`, definition, new RetryPolicy(5),
  );
  let offset = 0;
  const keyOf = (recordId: string) => createHmac('sha256', PATIENT_KEY_SECRET).update(recordId).digest('hex');

  return {
    async encode(records) {
      const out: KafkaMessage[] = [];
      for (const record of records) {
        const ingested = ingestedEvent(record, keyOf(record.recordId));
        const headers = metadataToHeaders({ eventId: ingested.eventId, correlationId: ingested.correlationId, tier: TIER, source: SOURCE, receivedAt: ingested.receivedAt });
        out.push({
          key: Buffer.from(ingested.sourcePatientKey), value: await serde.encode(TOPIC, ingested), headers,
          offset: String(offset++), timestamp: String(ingested.receivedAt), attributes: 0,
        });
      }
      return out;
    },
    processChunk: (messages) => processor.processChunk(TOPIC, 0, messages),
    async refreshFrequencies() {
      await inTransaction(dataSource, (uow) => index.refreshFrequencies(new PersonIndexRepository(uow)));
    },
    async maintain() {
      await dataSource.query('VACUUM ANALYZE');
    },
    async outcomes(recordIds) {
      const byKey = new Map(recordIds.map((id) => [keyOf(id), id]));
      const out = new Map<string, ServiceOutcome>();
      const reviews = new Set<string>();
      const rows = await dataSource.query<Array<{ topic: string; value: Buffer }>>('SELECT topic, value FROM cm_outbox WHERE topic = ANY($1) ORDER BY id', [[stageTopic('identified', TIER), EVENT_TOPICS.identity]]);
      for (const row of rows) {
        if (row.topic === EVENT_TOPICS.identity) {
          const { value } = await serde.decode<IdentityEvent>(row.value, 'IdentityEvent');
          if (value.type === 'REVIEW_REQUIRED') reviews.add(value.recordKey);
          continue;
        }
        const { value } = await serde.decode<IdentifiedEvent>(row.value, 'IdentifiedEvent');
        const recordId = byKey.get(value.ingested.sourcePatientKey);
        if (recordId && !out.has(recordId)) out.set(recordId, { epid: value.epid, method: value.identity.method, review: false });
      }
      for (const [key, recordId] of byKey) {
        const o = out.get(recordId);
        if (o && reviews.has(key)) o.review = true;
      }
      return out;
    },
    statements: () => statements,
    backendCpuMs: () => backendCpu(backendPid),
    async close() {
      await dataSource.destroy();
      await registry.close();
      await serviceDb.drop();
      await registryDb.drop();
    },
  };
}

/** The ingested event ingest publishes for a FHIR Patient registration of `record`. */
function ingestedEvent(record: PersonRecord, sourcePatientKey: string): IngestedEvent {
  const mrn = record.recordId;
  const patient = fhirPatient(record, mrn);
  const eventId = deriveEventId(`identity-bench|${mrn}`, 'ingested');
  return {
    eventId, correlationId: eventId, receivedAt: Date.now(), tier: TIER, triageRule: 'default',
    source: { system: record.sourceSystem ?? SOURCE, facility: '', channel: 'HTTP' }, format: 'FHIR_R4', messageType: 'Patient', controlId: mrn, version: '4.0.1',
    sourcePatientKey, patientIdentifiers: [{ system: MRN_SYSTEM, value: mrn, type: 'MR' }],
    contentType: 'application/fhir+json', raw: Buffer.from(JSON.stringify(patient)),
  };
}

/** A FHIR R4 Patient as a registration system sends it: MRN and SSN identifiers, official name, gender, home address, phone. */
function fhirPatient(r: PersonRecord, mrn: string): Record<string, unknown> {
  const v2 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
  const identifier = [
    { system: MRN_SYSTEM, value: mrn, type: { coding: [{ system: v2, code: 'MR' }] } },
    ...(r.identifiers ?? []).map((i) => (['SS', 'NI'].includes(i.type ?? '')
      ? { system: SSN_SYSTEM, value: i.value, type: { coding: [{ system: v2, code: 'SS' }] } }
      : { system: i.system, value: i.value, ...(i.type ? { type: { coding: [{ system: v2, code: i.type }] } } : {}) })),
  ];
  const given = [r.givenName, r.middleName].filter((g): g is string => !!g);
  const a = r.address;
  const line = a ? [[a.streetNumber, a.street].filter(Boolean).join(' '), a.line2].filter((l): l is string => !!l) : [];
  const b = r.birthDate && /^\d{8}$/.test(r.birthDate) ? `${r.birthDate.slice(0, 4)}-${r.birthDate.slice(4, 6)}-${r.birthDate.slice(6)}` : r.birthDate;
  const gender = { M: 'male', F: 'female' }[(r.sex ?? '').toUpperCase()] ?? (r.sex ? 'unknown' : undefined);
  return {
    resourceType: 'Patient', identifier,
    ...(r.familyName || given.length ? { name: [{ use: 'official', ...(r.familyName ? { family: r.familyName } : {}), ...(given.length ? { given } : {}) }] } : {}),
    ...(b ? { birthDate: b } : {}),
    ...(gender ? { gender } : {}),
    ...(a ? { address: [{ use: 'home', ...(line.length ? { line } : {}), ...(a.suburb ?? a.city ? { city: a.suburb ?? a.city } : {}), ...(a.state ? { state: a.state } : {}), ...(a.postcode ? { postalCode: a.postcode } : {}) }] } : {}),
    ...(r.phone ? { telecom: [{ system: 'phone', value: r.phone, use: 'home' }] } : {}),
  };
}
