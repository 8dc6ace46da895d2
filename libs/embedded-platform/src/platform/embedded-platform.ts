import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { envPrefixOf, LAUNCHED_SERVICE_NAMES, SERVICE_PORTS, ServiceName, SERVICE_NAMES } from './service-catalog';
import { RunningPostgres, startEmbeddedPostgres } from '../postgres/embedded-postgres';
import { RunningMockCluster, serviceLongPollFront, startMockCluster } from '../kafka/mock-cluster.launcher';
import { ManagedProcess } from './managed-process';
import { freePort } from './free-port';

export interface PlatformSecrets {
  authSecret: string;
  patientKeySecret: string;
  registryUser: string;
  registryPassword: string;
}

export interface PlatformOptions {
  /** Working directory for data, logs and secrets (e.g. `.clinmesh`). */
  dir: string;
  pgPort?: number;
  registryPort?: number;
  /** Trade durability for speed (tests): PostgreSQL fsync off. */
  fast?: boolean;
  echoLogs?: boolean;
  /** Started by the embedded launcher (see ManagedProcess.launcherChild). */
  launcherChild?: boolean;
}

export interface RunningPlatform {
  dir: string;
  postgres: RunningPostgres;
  kafka: RunningMockCluster;
  registry: { url: string; basicAuth: string; process: ManagedProcess };
  secrets: PlatformSecrets;
  /** Environment for a service process talking to this platform. */
  serviceEnv(service: ServiceName, overrides?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  databaseUrl(service: ServiceName): string;
  stop(): Promise<void>;
}

/** Secrets are generated once per working directory and kept in a 0600 file, never in code. */
export function loadOrCreateSecrets(dir: string): PlatformSecrets {
  const file = join(dir, 'secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  const secrets: PlatformSecrets = {
    authSecret: randomBytes(32).toString('base64url'),
    patientKeySecret: randomBytes(24).toString('base64url'),
    registryUser: 'clinmesh',
    registryPassword: randomBytes(18).toString('base64url'),
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

export function databaseName(service: ServiceName | 'schema-registry'): string {
  return `clinmesh_${service.replace(/-/g, '_')}`;
}

/**
 * Starts the embedded platform: PostgreSQL (one database per service plus
 * the registry's), the Kafka-protocol mock cluster, and the schema registry.
 * Services are started separately (see startServices) so tests can crash
 * and restart them.
 */
export async function startEmbeddedPlatform(options: PlatformOptions): Promise<RunningPlatform> {
  const dir = resolve(options.dir);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const secrets = loadOrCreateSecrets(dir);
  const postgres = await startEmbeddedPostgres({ dataDir: join(dir, 'postgres'), port: options.pgPort ?? (await freePort()), fast: options.fast });
  await Promise.all([...LAUNCHED_SERVICE_NAMES, 'schema-registry' as const].map((s) => postgres.ensureDatabase(databaseName(s))));
  const kafka = await startMockCluster({ launcherChild: options.launcherChild });
  const registryPort = options.registryPort ?? (await freePort());
  const basicAuth = `${secrets.registryUser}:${secrets.registryPassword}`;
  const registryProcess = new ManagedProcess({
    name: 'schema-registry',
    entry: 'libs/schema-registry/src/registry.main.js',
    env: {
      ...process.env,
      SCHEMA_REGISTRY_DATABASE_URL: postgres.urlFor(databaseName('schema-registry')),
      SCHEMA_REGISTRY_PORT: String(registryPort),
      SCHEMA_REGISTRY_HOST: '127.0.0.1',
      SCHEMA_REGISTRY_BASIC_AUTH: basicAuth,
    },
    logFile: join(dir, 'logs', 'schema-registry.log'),
    echo: options.echoLogs,
    launcherChild: options.launcherChild,
  });
  registryProcess.start();
  const registryUrl = `http://127.0.0.1:${registryPort}`;
  await registryProcess.waitForHttp(`${registryUrl}/health/ready`, 30000).catch(async () => registryProcess.waitForHttp(`${registryUrl}/health`, 5000));

  const platform: RunningPlatform = {
    dir,
    postgres,
    kafka,
    registry: { url: registryUrl, basicAuth, process: registryProcess },
    secrets,
    databaseUrl: (service) => postgres.urlFor(databaseName(service)),
    serviceEnv(service, overrides = {}) {
      const p = envPrefixOf(service);
      return {
        ...process.env,
        KAFKA_BROKERS: kafka.bootstraps,
        KAFKA_LONG_POLL_FRONT: serviceLongPollFront(kafka),
        SCHEMA_REGISTRY_URL: registryUrl,
        SCHEMA_REGISTRY_BASIC_AUTH: basicAuth,
        CLINMESH_TOPIC_PROVISIONING: 'mock',
        CLINMESH_KAFKA_CONTROL_URL: kafka.controlUrl,
        CLINMESH_AUTH_SECRET: secrets.authSecret,
        CLINMESH_PATIENT_KEY_SECRET: secrets.patientKeySecret,
        CLINMESH_RUNTIME_FILE: join(dir, 'no-runtime-file.json'),
        [`${p}_DATABASE_URL`]: postgres.urlFor(databaseName(service)),
        [`${p}_HTTP_PORT`]: String(SERVICE_PORTS[service]),
        ...overrides,
      };
    },
    async stop() {
      await registryProcess.stop();
      await kafka.stop();
      await postgres.stop();
    },
  };
  return platform;
}

export interface RunningServices {
  processes: Record<ServiceName, ManagedProcess>;
  urls: Record<ServiceName, string>;
  waitReady(names?: ServiceName[]): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the six services as separate processes against the platform, all at once. */
export async function startServices(
  platform: RunningPlatform,
  options: {
    /** Which services (default the six; the launcher passes LAUNCHED_SERVICE_NAMES, with the generated consumers). */
    names?: readonly ServiceName[];
    ports?: Partial<Record<ServiceName, number>>; env?: NodeJS.ProcessEnv; perService?: Partial<Record<ServiceName, NodeJS.ProcessEnv>>; echoLogs?: boolean; logDir?: string;
    /** Started by the embedded launcher: IPC control (close intake, drain status), own process group, death with the launcher. */
    launcherChild?: boolean;
  } = {},
): Promise<RunningServices> {
  const processes = {} as Record<ServiceName, ManagedProcess>;
  const urls = {} as Record<ServiceName, string>;
  const names = options.names ?? SERVICE_NAMES;
  for (const name of names) {
    const port = options.ports?.[name] ?? SERVICE_PORTS[name];
    const p = envPrefixOf(name);
    processes[name] = new ManagedProcess({
      name,
      entry: `apps/${name}/src/main.js`,
      env: platform.serviceEnv(name, { [`${p}_HTTP_PORT`]: String(port), ...options.env, ...options.perService?.[name] }),
      logFile: join(options.logDir ?? join(platform.dir, 'logs'), `${name}.log`),
      echo: options.echoLogs,
      launcherChild: options.launcherChild,
    });
    urls[name] = `http://127.0.0.1:${port}`;
  }
  const services: RunningServices = {
    processes,
    urls,
    async waitReady(only = [...names]) {
      await Promise.all(only.map((n) => processes[n].waitForHttp(`${urls[n]}/health/ready`, 120000)));
    },
    async stop() {
      await Promise.all(names.map((n) => processes[n].stop()));
    },
  };
  for (const name of names) processes[name].start();
  await services.waitReady();
  return services;
}
