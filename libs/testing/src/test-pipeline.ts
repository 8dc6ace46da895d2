import { join } from 'node:path';
import { Client } from 'pg';
import { Kafka, logLevel } from 'kafkajs';
import { AccessTokens, ALL_SCOPES } from '@clinmesh/security';
import { MllpClient } from '@clinmesh/hl7v2';
import {
  ManagedProcess, RunningMockCluster, SERVICE_NAMES, ServiceName, envPrefixOf, freePort, startMockCluster,
} from '@clinmesh/embedded-platform';
import { TestEnvironment, serviceProcessEnv, testEnvironment, uniqueName } from './test-environment';
import { WebhookReceiver } from './webhook-receiver';
import { sumSamples } from './prometheus-text';

export interface TestPipelineOptions {
  /** Extra environment for every service (e.g. consumer settings). */
  env?: NodeJS.ProcessEnv;
  perService?: Partial<Record<ServiceName, NodeJS.ProcessEnv>>;
  echoLogs?: boolean;
}

/**
 * The six real services as separate processes, for one end-to-end test
 * file: its own Kafka-protocol cluster (so no other test's events are on its
 * topics), its own databases on the shared PostgreSQL, the shared schema
 * registry, random ports and short consumer session timeouts so a killed
 * member's partitions move quickly.
 */
export class TestPipeline {
  readonly processes = {} as Record<ServiceName, ManagedProcess>;
  readonly urls = {} as Record<ServiceName, string>;
  readonly databases = {} as Record<ServiceName, string>;
  mllpPort = 0;
  private tokenCache: string | null = null;

  private constructor(readonly env: TestEnvironment, readonly name: string, readonly kafkaCluster: RunningMockCluster) {}

  static async start(label: string, options: TestPipelineOptions = {}): Promise<TestPipeline> {
    const env = testEnvironment();
    const kafka = await startMockCluster();
    const pipeline = new TestPipeline(env, uniqueName(label), kafka);
    try {
      await pipeline.boot(options);
    } catch (error) {
      // A service that failed to start must not leave the others (and the cluster) running:
      // the test file's after() never sees this pipeline, and live children would hang the run.
      await pipeline.stop().catch(() => undefined);
      throw error;
    }
    return pipeline;
  }

  private async boot(options: TestPipelineOptions): Promise<void> {
    const admin = new Client({ connectionString: this.env.pgUrl });
    await admin.connect();
    try {
      for (const s of SERVICE_NAMES) {
        const db = `${this.name}_${s.replace(/-/g, '_')}`.slice(0, 63);
        await admin.query(`CREATE DATABASE "${db}"`);
        this.databases[s] = this.env.pgUrl.replace(/\/[^/?]+(\?|$)/, `/${db}$1`);
      }
    } finally {
      await admin.end();
    }
    this.mllpPort = await freePort();
    for (const s of SERVICE_NAMES) {
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
          ...(s === 'ingest' ? { INGEST_MLLP_PORT: String(this.mllpPort) } : {}),
          ...options.env,
          ...options.perService?.[s],
        },
      });
    }
    // All at once: each service's consumers join their groups concurrently.
    for (const s of SERVICE_NAMES) this.processes[s].start();
    await this.waitReady();
  }

  async waitReady(names: readonly ServiceName[] = SERVICE_NAMES): Promise<void> {
    await Promise.all(names.map((s) => this.processes[s].waitForHttp(`${this.urls[s]}/health/ready`, 120000)));
  }

  async token(scopes: string[] = ALL_SCOPES, subject = 'e2e-tester'): Promise<string> {
    if (scopes === ALL_SCOPES && this.tokenCache) return this.tokenCache;
    const t = await new AccessTokens(this.env.authSecret).issue(subject, scopes, 3600, subject);
    if (scopes === ALL_SCOPES) this.tokenCache = t;
    return t;
  }

  async request(service: ServiceName, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; text: string; json: () => any }> {
    const isRaw = typeof body === 'string' || Buffer.isBuffer(body);
    const res = await fetch(`${this.urls[service]}${path}`, {
      method,
      headers: { authorization: `Bearer ${await this.token()}`, ...(body !== undefined && !isRaw ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : isRaw ? (body as string) : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
  }

  async sendHl7(message: string, headers: Record<string, string> = {}): Promise<{ status: number; ack: string; messageId: string | null; tier: string | null }> {
    const r = await this.request('ingest', 'POST', '/v1/hl7v2', message, { 'content-type': 'x-application/hl7-v2+er7', ...headers });
    return { status: r.status, ack: r.text, messageId: r.headers.get('x-clinmesh-message-id'), tier: r.headers.get('x-clinmesh-tier') };
  }

  async mllpClient(): Promise<MllpClient> {
    const client = new MllpClient();
    await client.connect('127.0.0.1', this.mllpPort);
    return client;
  }

  async tasks(query: Record<string, string> = {}): Promise<Array<Record<string, any>>> {
    const r = await this.request('task', 'GET', `/v1/tasks?${new URLSearchParams({ limit: '1000', ...query })}`);
    if (r.status !== 200) throw new Error(`GET /v1/tasks → ${r.status} ${r.text}`);
    return r.json().tasks;
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

  async subscribeWebhook(filter: Record<string, unknown> = {}): Promise<WebhookReceiver> {
    const secret = 'e2e-webhook-secret-0123456789';
    const receiver = new WebhookReceiver(secret);
    const url = await receiver.start();
    const r = await this.request('notifier', 'POST', '/v1/subscriptions', { url, secret, filter, name: 'e2e' });
    if (r.status !== 201) throw new Error(`subscription failed: ${r.status} ${r.text}`);
    return receiver;
  }

  kafka(): Kafka {
    return new Kafka({ clientId: `${this.name}-test`, brokers: this.kafkaCluster.brokers, logLevel: logLevel.NOTHING });
  }

  async metric(service: ServiceName, name: string, labels: Record<string, string> = {}): Promise<number> {
    const r = await this.request(service, 'GET', '/metrics');
    return sumSamples(r.text, name, labels);
  }

  async stop(): Promise<void> {
    await Promise.all(SERVICE_NAMES.map((s) => this.processes[s]?.stop()));
    await this.kafkaCluster.stop();
  }
}
