import { readFileSync } from 'node:fs';
import { ClinmeshError } from '@clinmesh/errors';
import type { ServiceConfig } from '@clinmesh/service-kit';
import { SenderRateLimits, parseRateLimits } from '../domain/rate-limit/sender-rate.limiter';

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
}

/**
 * Reads every `INGEST_*` setting once; all problems are reported together
 * and the service refuses to start (no `config.env()` at call sites).
 */
export function loadIngestConfig(config: ServiceConfig): IngestConfig {
  const problems: string[] = [];
  const env = (name: string) => config.env(name);
  const int = (name: string, fallback: number, min: number): number => {
    const raw = env(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) {
      problems.push(`INGEST_${name} must be an integer ≥ ${min} (got "${raw}")`);
      return fallback;
    }
    return n;
  };
  const file = (name: string): Buffer | undefined => {
    const path = env(name);
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (error) {
      problems.push(`INGEST_${name}: cannot read ${path} (${(error as Error).message})`);
      return undefined;
    }
  };

  const { limits: rateLimits, problems: rateProblems } = parseRateLimits({
    perSecond: env('RATE_LIMIT_PER_SECOND'), burst: env('RATE_LIMIT_BURST'), overrides: env('RATE_LIMIT_OVERRIDES'),
  });
  problems.push(...rateProblems);
  const fhirRequiredElements = env('FHIR_REQUIRED_ELEMENTS') ?? 'warning';
  if (fhirRequiredElements !== 'warning' && fhirRequiredElements !== 'error') problems.push(`INGEST_FHIR_REQUIRED_ELEMENTS must be warning or error (got "${fhirRequiredElements}")`);

  const tlsKey = file('MLLP_TLS_KEY_FILE');
  const tlsCert = file('MLLP_TLS_CERT_FILE');
  if (env('MLLP_TLS_KEY_FILE') && !env('MLLP_TLS_CERT_FILE')) problems.push('INGEST_MLLP_TLS_CERT_FILE is required with INGEST_MLLP_TLS_KEY_FILE');
  const requireClientCert = env('MLLP_TLS_REQUIRE_CLIENT_CERT') === 'true';
  const ca = file('MLLP_TLS_CA_FILE');
  if (requireClientCert && !ca) problems.push('INGEST_MLLP_TLS_CA_FILE is required with INGEST_MLLP_TLS_REQUIRE_CLIENT_CERT=true');

  const allowed = env('ALLOWED_SENDERS');
  const result: IngestConfig = {
    maxMessageBytes: int('MAX_MESSAGE_BYTES', 2 * 1024 * 1024, 1),
    maxBundleEntries: int('MAX_BUNDLE_ENTRIES', 1000, 1),
    allowedSenders: allowed ? new Set(allowed.split(',').map((s) => s.trim()).filter(Boolean)) : undefined,
    receivingApplication: env('RECEIVING_APPLICATION') ?? 'CLINMESH',
    receivingFacility: env('RECEIVING_FACILITY') ?? 'CLINMESH',
    fhirRequiredElements: fhirRequiredElements === 'error' ? 'error' : 'warning',
    rateLimits,
    mllp: {
      port: int('MLLP_PORT', 2575, 0),
      host: env('MLLP_HOST') ?? config.http.host,
      idleTimeoutMs: int('MLLP_IDLE_TIMEOUT_MS', 300_000, 0),
      frameTimeoutMs: int('MLLP_FRAME_TIMEOUT_MS', 60_000, 0),
      maxConnections: int('MLLP_MAX_CONNECTIONS', 500, 1),
      maxConnectionsPerSource: int('MLLP_MAX_CONNECTIONS_PER_SOURCE', 100, 0),
      closeGraceMs: int('MLLP_CLOSE_GRACE_MS', 10_000, 0),
      tls: tlsKey && tlsCert ? { key: tlsKey, cert: tlsCert, ca, requireClientCert } : undefined,
    },
    intakeClosedRetryAfterSeconds: int('INTAKE_CLOSED_RETRY_AFTER_SECONDS', 30, 1),
  };
  if (problems.length) {
    throw new ClinmeshError('CONFIG.INVALID', `ingest: invalid configuration:\n - ${problems.join('\n - ')}`, { details: { errors: problems } });
  }
  return result;
}
