import { ServiceConfig, SettingsReader } from '@clinmesh/service-kit';
import { SenderRateLimits, parseRateLimits } from '../domain/rate-limit/sender-rate.limiter';
import { BulkPacing, DEFAULT_BULK_PACING } from '@clinmesh/event-runtime';

/** Messages of a batch file accepted in one group while bulk is paced. */
const INGEST_PACED_GROUP_SIZE = 10;

/** Ingest's own settings (`INGEST_*`), read and validated once at start. */
export interface IngestConfig {
  /** Per HL7 message / MLLP frame / FHIR payload. */
  maxMessageBytes: number;
  maxBundleEntries: number;
  /** MSH-3 allowlist; undefined = every sender. */
  allowedSenders?: ReadonlySet<string>;
  receivingApplication: string;
  receivingFacility: string;
  fhirRequiredElements: 'error' | 'warning';
  rateLimits: SenderRateLimits;
  mllp: {
    port: number;
    host: string;
    /** Close connections with nothing in flight and no traffic for this long (0 = never). */
    idleTimeoutMs: number;
    /** Read deadline of one frame, from its start block (0 = none). */
    frameTimeoutMs: number;
    maxConnections: number;
    /** Open connections per source address (0 = no per-source cap). */
    maxConnectionsPerSource: number;
    /** How long closing intake waits for in-flight frames before dropping connections. */
    closeGraceMs: number;
    tls?: { key: Buffer; cert: Buffer; ca?: Buffer; requireClientCert: boolean };
  };
  /** Retry-After (seconds) of the 503 the HTTP intake answers once intake is closed. */
  intakeClosedRetryAfterSeconds: number;
  /** Batch-file intake's share of ingest's time while stat or urgent messages arrive (application/bulk-intake.pacer.ts). */
  bulkIntakePacing: BulkPacing;
}

/**
 * Reads every `INGEST_*` setting once; all problems are reported together
 * and the service refuses to start (no `config.env()` at call sites).
 */
export function loadIngestConfig(config: ServiceConfig): IngestConfig {
  const s = new SettingsReader('INGEST', config.env);
  const env = (name: string) => s.raw(name);

  const { limits: rateLimits, problems: rateProblems } = parseRateLimits({
    perSecond: env('RATE_LIMIT_PER_SECOND'), burst: env('RATE_LIMIT_BURST'), overrides: env('RATE_LIMIT_OVERRIDES'),
  });
  rateProblems.forEach((p) => s.problem(p));
  const fhirRequiredElements = s.string('FHIR_REQUIRED_ELEMENTS', 'warning');
  if (fhirRequiredElements !== 'warning' && fhirRequiredElements !== 'error') s.problem(`INGEST_FHIR_REQUIRED_ELEMENTS must be warning or error (got "${fhirRequiredElements}")`);

  const tlsKey = s.file('MLLP_TLS_KEY_FILE');
  const tlsCert = s.file('MLLP_TLS_CERT_FILE');
  if (env('MLLP_TLS_KEY_FILE') && !env('MLLP_TLS_CERT_FILE')) s.problem('INGEST_MLLP_TLS_CERT_FILE is required with INGEST_MLLP_TLS_KEY_FILE');
  const requireClientCert = s.flag('MLLP_TLS_REQUIRE_CLIENT_CERT');
  const ca = s.file('MLLP_TLS_CA_FILE');
  if (requireClientCert && !ca) s.problem('INGEST_MLLP_TLS_CA_FILE is required with INGEST_MLLP_TLS_REQUIRE_CLIENT_CERT=true');

  const allowed = s.list('ALLOWED_SENDERS');
  const result: IngestConfig = {
    maxMessageBytes: s.int('MAX_MESSAGE_BYTES', 2 * 1024 * 1024, { min: 1 }),
    maxBundleEntries: s.int('MAX_BUNDLE_ENTRIES', 1000, { min: 1 }),
    allowedSenders: allowed ? new Set(allowed) : undefined,
    receivingApplication: s.string('RECEIVING_APPLICATION', 'CLINMESH'),
    receivingFacility: s.string('RECEIVING_FACILITY', 'CLINMESH'),
    fhirRequiredElements: fhirRequiredElements === 'error' ? 'error' : 'warning',
    rateLimits,
    mllp: {
      port: s.int('MLLP_PORT', 2575, { min: 0 }),
      host: s.string('MLLP_HOST', config.http.host),
      idleTimeoutMs: s.int('MLLP_IDLE_TIMEOUT_MS', 300_000, { min: 0 }),
      frameTimeoutMs: s.int('MLLP_FRAME_TIMEOUT_MS', 60_000, { min: 0 }),
      maxConnections: s.int('MLLP_MAX_CONNECTIONS', 500, { min: 1 }),
      maxConnectionsPerSource: s.int('MLLP_MAX_CONNECTIONS_PER_SOURCE', 100, { min: 0 }),
      closeGraceMs: s.int('MLLP_CLOSE_GRACE_MS', 10_000, { min: 0 }),
      tls: tlsKey && tlsCert ? { key: tlsKey, cert: tlsCert, ca, requireClientCert } : undefined,
    },
    intakeClosedRetryAfterSeconds: s.int('INTAKE_CLOSED_RETRY_AFTER_SECONDS', 30, { min: 1 }),
    bulkIntakePacing: {
      share: s.number('BULK_SHARE', DEFAULT_BULK_PACING.share, { min: 0.01, max: 1 }),
      withinMs: s.int('BULK_PACING_WINDOW_MS', DEFAULT_BULK_PACING.withinMs, { min: 0 }),
      maxPauseMs: s.int('BULK_PACING_MAX_PAUSE_MS', DEFAULT_BULK_PACING.maxPauseMs, { min: 0 }),
      // Ingest's own size, not the consumers' (bulk-pacing.ts): groups of 10 are what was measured here.
      chunkSize: s.int('BULK_PACED_GROUP_SIZE', INGEST_PACED_GROUP_SIZE, { min: 1 }),
    },
  };
  s.assertValid('ingest');
  return result;
}
