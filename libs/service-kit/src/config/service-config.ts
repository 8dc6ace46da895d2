import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClinmeshError } from '@clinmesh/errors';
import { KafkaConnectionConfig, SchemaRegistryConfig } from '@clinmesh/event-runtime';
import { ACCESS_LOG_LEVELS, AccessLogLevel } from '@clinmesh/observability';

export interface ServiceConfig {
  service: string;
  /** `accessLog`: how each completed request is logged (CLINMESH_HTTP_ACCESS_LOG: info, debug or off). */
  http: { host: string; port: number; accessLog: AccessLogLevel };
  databaseUrl: string;
  kafka: Omit<KafkaConnectionConfig, 'clientId'> & { clientId?: string };
  registry: SchemaRegistryConfig;
  /** How topics get created at start: mock control API (embedded), Kafka admin API, or not at all. */
  topicProvisioning: { mode: 'mock'; controlUrl: string } | { mode: 'admin'; replicationFactor: number } | { mode: 'none' };
  authSecret: string;
  patientKeySecret: string;
  consumer: { sessionTimeoutMs: number; heartbeatIntervalMs: number; partitionsConsumedConcurrently: number };
  logLevel: string;
  /** The service's own settings, read with its prefix (e.g. INGEST_MLLP_PORT). */
  env: (name: string) => string | undefined;
}

/** Written by the embedded launcher; supplies defaults when variables are unset. */
export interface EmbeddedRuntimeFile {
  kafka: { brokers: string[]; controlUrl: string; longPollFront?: string };
  schemaRegistry: { url: string; basicAuth?: string };
  databases: Record<string, string>;
  secrets: { authSecret: string; patientKeySecret: string };
}

export function envPrefix(service: string): string {
  return service.toUpperCase().replace(/-/g, '_');
}

export function readEmbeddedRuntime(root = process.cwd(), env: NodeJS.ProcessEnv = process.env): EmbeddedRuntimeFile | undefined {
  const file = env.CLINMESH_RUNTIME_FILE ?? join(root, '.clinmesh', 'runtime.json');
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')).internal as EmbeddedRuntimeFile | undefined;
}

/**
 * One typed config per service from environment variables (shared names such
 * as KAFKA_BROKERS plus `<SERVICE>_*`), with the embedded platform's
 * runtime file as the default when a variable is unset. Every problem is
 * reported at once, and the service refuses to start.
 */
export function loadServiceConfig(service: string, defaultPort: number, env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const p = envPrefix(service);
  const embedded = readEmbeddedRuntime(process.cwd(), env);
  const errors: string[] = [];
  const get = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const int = (name: string, fallback: number) => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) errors.push(`${name} must be a non-negative integer (got "${raw}")`);
    return n;
  };

  const brokers = (get('KAFKA_BROKERS') ?? embedded?.kafka.brokers.join(',') ?? '').split(',').map((b) => b.trim()).filter(Boolean);
  if (!brokers.length) errors.push('KAFKA_BROKERS is required (comma-separated host:port) — or start the embedded platform with `npm start`');
  const registryUrl = get('SCHEMA_REGISTRY_URL') ?? embedded?.schemaRegistry.url;
  if (!registryUrl) errors.push('SCHEMA_REGISTRY_URL is required');
  const registryAuth = get('SCHEMA_REGISTRY_BASIC_AUTH') ?? embedded?.schemaRegistry.basicAuth;
  const databaseUrl = get(`${p}_DATABASE_URL`) ?? embedded?.databases[service];
  if (!databaseUrl) errors.push(`${p}_DATABASE_URL is required (postgres://...)`);
  const authSecret = get('CLINMESH_AUTH_SECRET') ?? embedded?.secrets.authSecret ?? '';
  if (authSecret.length < 32) errors.push('CLINMESH_AUTH_SECRET is required (at least 32 characters)');
  const patientKeySecret = get('CLINMESH_PATIENT_KEY_SECRET') ?? embedded?.secrets.patientKeySecret ?? '';
  if (patientKeySecret.length < 16) errors.push('CLINMESH_PATIENT_KEY_SECRET is required (at least 16 characters)');

  const provisioning = get('CLINMESH_TOPIC_PROVISIONING') ?? (get('CLINMESH_KAFKA_CONTROL_URL') || (embedded && !get('KAFKA_BROKERS')) ? 'mock' : 'none');
  let topicProvisioning: ServiceConfig['topicProvisioning'] = { mode: 'none' };
  if (provisioning === 'mock') {
    const controlUrl = get('CLINMESH_KAFKA_CONTROL_URL') ?? embedded?.kafka.controlUrl;
    if (!controlUrl) errors.push('CLINMESH_KAFKA_CONTROL_URL is required when CLINMESH_TOPIC_PROVISIONING=mock');
    topicProvisioning = { mode: 'mock', controlUrl: controlUrl ?? '' };
  } else if (provisioning === 'admin') {
    topicProvisioning = { mode: 'admin', replicationFactor: int('CLINMESH_TOPIC_REPLICATION_FACTOR', 3) };
  } else if (provisioning !== 'none') {
    errors.push(`CLINMESH_TOPIC_PROVISIONING must be mock, admin or none (got "${provisioning}")`);
  }

  const accessLog = get('CLINMESH_HTTP_ACCESS_LOG') ?? 'info';
  if (!(ACCESS_LOG_LEVELS as readonly string[]).includes(accessLog)) errors.push(`CLINMESH_HTTP_ACCESS_LOG must be ${ACCESS_LOG_LEVELS.join(', ')} (got "${accessLog}")`);

  const saslMechanism = get('KAFKA_SASL_MECHANISM');
  // The embedded cluster's long-poll front; `off` connects straight to the mock cluster.
  const longPollFront = get('KAFKA_LONG_POLL_FRONT') ?? (get('KAFKA_BROKERS') ? undefined : embedded?.kafka.longPollFront);
  if (longPollFront && longPollFront !== 'off' && !/^(127\.0\.0\.1|localhost):\d{1,5}$/.test(longPollFront)) errors.push(`KAFKA_LONG_POLL_FRONT must be off or a loopback host:port (got "${longPollFront}")`);
  if (longPollFront && longPollFront !== 'off' && get('KAFKA_SSL') === 'true') errors.push('KAFKA_LONG_POLL_FRONT is for the embedded cluster and cannot be combined with KAFKA_SSL');
  const kafka: ServiceConfig['kafka'] = {
    brokers,
    ssl: get('KAFKA_SSL') === 'true' ? { rejectUnauthorized: get('KAFKA_SSL_REJECT_UNAUTHORIZED') !== 'false', ca: readOptionalFile(get('KAFKA_SSL_CA_FILE')) } : undefined,
    longPollFront: longPollFront === 'off' ? undefined : longPollFront,
    sasl: saslMechanism ? { mechanism: saslMechanism as 'plain', username: get('KAFKA_SASL_USERNAME') ?? '', password: get('KAFKA_SASL_PASSWORD') ?? '' } : undefined,
  };
  if (saslMechanism && !['plain', 'scram-sha-256', 'scram-sha-512'].includes(saslMechanism)) errors.push('KAFKA_SASL_MECHANISM must be plain, scram-sha-256 or scram-sha-512');

  const config: ServiceConfig = {
    service,
    http: { host: get(`${p}_HTTP_HOST`) ?? get('CLINMESH_HTTP_HOST') ?? '127.0.0.1', port: int(`${p}_HTTP_PORT`, defaultPort), accessLog: accessLog as AccessLogLevel },
    databaseUrl: databaseUrl ?? '',
    kafka,
    registry: {
      url: registryUrl ?? '',
      auth: registryAuth ? { username: registryAuth.split(':')[0], password: registryAuth.slice(registryAuth.indexOf(':') + 1) } : undefined,
    },
    topicProvisioning,
    authSecret,
    patientKeySecret,
    consumer: {
      sessionTimeoutMs: int('CLINMESH_CONSUMER_SESSION_TIMEOUT_MS', 30000),
      heartbeatIntervalMs: int('CLINMESH_CONSUMER_HEARTBEAT_MS', 3000),
      partitionsConsumedConcurrently: int('CLINMESH_CONSUMER_PARTITION_CONCURRENCY', 4),
    },
    logLevel: get('LOG_LEVEL') ?? 'info',
    env: (name) => get(`${p}_${name}`),
  };
  if (errors.length) {
    throw new ClinmeshError('CONFIG.INVALID', `${service}: invalid configuration:\n - ${errors.join('\n - ')}`, { details: { errors } });
  }
  return config;
}

function readOptionalFile(path: string | undefined): string | undefined {
  return path ? readFileSync(path, 'utf8') : undefined;
}
