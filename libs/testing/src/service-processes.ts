import { join } from 'node:path';
import { Client } from 'pg';
import { Kafka, logLevel } from 'kafkajs';
import { AccessTokens, ALL_SCOPES, ClientClaims } from '@clinmesh/security';
import { ManagedProcess, RunningMockCluster, ServiceName, envPrefixOf, freePort } from '@clinmesh/embedded-platform';
import { TestEnvironment, serviceProcessEnv } from './test-environment';
import { sumSamples } from './prometheus-text';
import { startOnFreePorts } from './start-on-free-ports';

export interface ServiceProcessOptions {
  /** Extra environment for every service (e.g. consumer settings). */
  env?: NodeJS.ProcessEnv;
  perService?: Partial<Record<ServiceName, NodeJS.ProcessEnv>>;
  echoLogs?: boolean;
}

type Response = { status: number; headers: Headers; text: string; json: () => any };

/**
 * Real service processes for one test file: a fresh database each on the shared PostgreSQL, the
 * file's own Kafka-protocol cluster, free loopback ports and short consumer session timeouts (so a
 * killed member's partitions move quickly). `TestPipeline` (all six, with MLLP) and `ServiceHarness`
 * (some, fed events directly) are this with their own conveniences.
 */
export abstract class ServiceProcesses {
  readonly processes = {} as Record<ServiceName, ManagedProcess>;
  readonly urls = {} as Record<ServiceName, string>;
  readonly databases = {} as Record<ServiceName, string>;
  private defaultToken: string | null = null;

  protected constructor(readonly env: TestEnvironment, readonly name: string, readonly kafkaCluster: RunningMockCluster, readonly services: readonly ServiceName[]) {}

  /** Creates the databases, starts every service at once (their consumers join concurrently) and waits until all are ready. */
  protected async boot(options: ServiceProcessOptions, envOf: (service: ServiceName) => NodeJS.ProcessEnv = () => ({})): Promise<void> {
    const admin = new Client({ connectionString: this.env.pgUrl });
    await admin.connect();
    try {
      for (const s of this.services) {
        const db = `${this.name}_${s.replace(/-/g, '_')}`.slice(0, 63);
        await admin.query(`CREATE DATABASE "${db}"`);
        this.databases[s] = this.env.pgUrl.replace(/\/[^/?]+(\?|$)/, `/${db}$1`);
      }
    } finally {
      await admin.end();
    }
    for (const s of this.services) {
      const port = await freePort();
      const p = envPrefixOf(s);
      this.urls[s] = `http://127.0.0.1:${port}`;
      this.processes[s] = new ManagedProcess({
        name: s,
        entry: `apps/${s}/src/main.js`,
        logFile: join(this.env.platformDir, 'logs', this.name, `${s}.log`),
        echo: options.echoLogs,
        env: {
          ...serviceProcessEnv(this.env, this.kafkaCluster),
          CLINMESH_CONSUMER_SESSION_TIMEOUT_MS: '6000',
          CLINMESH_CONSUMER_HEARTBEAT_MS: '500',
          [`${p}_DATABASE_URL`]: this.databases[s],
          [`${p}_HTTP_PORT`]: String(port),
          ...envOf(s),
          ...options.env,
          ...options.perService?.[s],
        },
      });
    }
    await Promise.all(this.services.map((s) => this.startReady(s)));
  }

  /** Starts one service and waits until it is ready, on new ports if one was taken meanwhile. */
  private async startReady(s: ServiceName): Promise<void> {
    const proc = this.processes[s];
    const http = `${envPrefixOf(s)}_HTTP_PORT`;
    await startOnFreePorts(proc, () => `http://127.0.0.1:${proc.options.env[http]}/health/ready`, [http, ...(s === 'ingest' ? ['INGEST_MLLP_PORT'] : [])]);
    this.urls[s] = `http://127.0.0.1:${proc.options.env[http]}`;
  }

  async waitReady(names: readonly ServiceName[] = this.services): Promise<void> {
    await Promise.all(names.map((s) => this.processes[s].waitForHttp(`${this.urls[s]}/health/ready`, 120000)));
  }

  /** A bearer token; `claims` bind an API client to an audience and a purpose of use. The all-scopes tester token is reused. */
  async token(scopes: string[] = ALL_SCOPES, subject = 'e2e-tester', claims: ClientClaims = {}): Promise<string> {
    const isDefault = scopes === ALL_SCOPES && subject === 'e2e-tester' && Object.keys(claims).length === 0;
    if (isDefault && this.defaultToken) return this.defaultToken;
    const token = await new AccessTokens(this.env.authSecret).issue(subject, scopes, 3600, subject, claims);
    if (isDefault) this.defaultToken = token;
    return token;
  }

  /** An authenticated call; a string or Buffer body is sent as is, anything else as JSON. */
  async request(service: ServiceName, method: string, path: string, body?: unknown, headers: Record<string, string> = {}, token?: string): Promise<Response> {
    const isRaw = typeof body === 'string' || Buffer.isBuffer(body);
    const res = await fetch(`${this.urls[service]}${path}`, {
      method,
      headers: { authorization: `Bearer ${token ?? (await this.token())}`, ...(body !== undefined && !isRaw ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : isRaw ? (body as string) : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
  }

  /** Rows of a service's own database (for assertions on effects). */
  async query<T = Record<string, any>>(service: ServiceName, sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new Client({ connectionString: this.databases[service] });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  kafka(): Kafka {
    return new Kafka({ clientId: `${this.name}-test`, brokers: this.kafkaCluster.brokers, logLevel: logLevel.NOTHING });
  }

  /** Sum of one metric's samples (matching `labels`) on a service's /metrics. */
  async metric(service: ServiceName, name: string, labels: Record<string, string> = {}): Promise<number> {
    const r = await this.request(service, 'GET', '/metrics');
    return sumSamples(r.text, name, labels);
  }

  async stop(): Promise<void> {
    await Promise.all(this.services.map((s) => this.processes[s]?.stop()));
    await this.kafkaCluster.stop();
  }
}
