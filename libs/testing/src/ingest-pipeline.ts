import { join } from 'node:path';
import { Client } from 'pg';
import { Kafka, logLevel } from 'kafkajs';
import { AccessTokens, ALL_SCOPES } from '@clinmesh/security';
import { MllpClient } from '@clinmesh/hl7v2';
import { ManagedProcess, RunningMockCluster, freePort, startMockCluster } from '@clinmesh/embedded-platform';
import { TestEnvironment, testEnvironment, uniqueName, serviceProcessEnv } from './test-environment';
import { sumSamples } from './prometheus-text';
import { startOnFreePorts } from './start-on-free-ports';

export interface IngestPipelineOptions {
  /** Extra INGEST_* (or other) environment for the ingest process. */
  env?: NodeJS.ProcessEnv;
  echoLogs?: boolean;
  /** Defaults to the test runner's platform ({@link testEnvironment}); the benchmark passes its own durable one. */
  environment?: TestEnvironment;
}

/**
 * The ingest service alone, as a real process, against its own
 * Kafka-protocol mock cluster and a fresh database: the front-door tests
 * need no downstream service, and on a 2-core machine starting five idle
 * services per test file only slows everything down. Same surface as
 * {@link TestPipeline} for what ingest tests use (request, sendHl7,
 * mllpClient, query, kafka, metric, processes.ingest for kill/start).
 */
export class IngestPipeline {
  readonly processes = {} as { ingest: ManagedProcess };
  readonly urls = {} as { ingest: string };
  database = '';
  /** The MLLP port (a new one if the first choice was taken at start). */
  get mllpPort(): number {
    return Number(this.processes.ingest.options.env.INGEST_MLLP_PORT);
  }
  private tokenCache: string | null = null;

  private constructor(readonly env: TestEnvironment, readonly name: string, readonly kafkaCluster: RunningMockCluster) {}

  static async start(label: string, options: IngestPipelineOptions = {}): Promise<IngestPipeline> {
    const env = options.environment ?? testEnvironment();
    const kafka = await startMockCluster();
    const pipeline = new IngestPipeline(env, uniqueName(label), kafka);
    try {
      await pipeline.boot(options);
    } catch (error) {
      await pipeline.stop().catch(() => undefined);
      throw error;
    }
    return pipeline;
  }

  private async boot(options: IngestPipelineOptions): Promise<void> {
    const admin = new Client({ connectionString: this.env.pgUrl });
    await admin.connect();
    const db = `${this.name}_ingest`.slice(0, 63);
    try {
      await admin.query(`CREATE DATABASE "${db}"`);
    } finally {
      await admin.end();
    }
    this.database = this.env.pgUrl.replace(/\/[^/?]+(\?|$)/, `/${db}$1`);
    const mllpPort = await freePort();
    const port = await freePort();
    this.urls.ingest = `http://127.0.0.1:${port}`;
    this.processes.ingest = new ManagedProcess({
      name: 'ingest',
      entry: 'apps/ingest/src/main.js',
      logFile: join(this.env.platformDir, 'logs', this.name, 'ingest.log'),
      echo: options.echoLogs,
      env: {
        ...serviceProcessEnv(this.env, this.kafkaCluster),
        INGEST_DATABASE_URL: this.database,
        INGEST_HTTP_PORT: String(port),
        INGEST_MLLP_PORT: String(mllpPort),
        ...options.env,
      },
    });
    const proc = this.processes.ingest;
    await startOnFreePorts(proc, () => `http://127.0.0.1:${proc.options.env.INGEST_HTTP_PORT}/health/ready`, ['INGEST_HTTP_PORT', 'INGEST_MLLP_PORT']);
    this.urls.ingest = `http://127.0.0.1:${proc.options.env.INGEST_HTTP_PORT}`;
  }

  async waitReady(): Promise<void> {
    await this.processes.ingest.waitForHttp(`${this.urls.ingest}/health/ready`, 120000);
  }

  async token(scopes: string[] = ALL_SCOPES, subject = 'e2e-tester'): Promise<string> {
    if (scopes === ALL_SCOPES && subject === 'e2e-tester' && this.tokenCache) return this.tokenCache;
    const t = await new AccessTokens(this.env.authSecret).issue(subject, scopes, 3600, subject);
    if (scopes === ALL_SCOPES && subject === 'e2e-tester') this.tokenCache = t;
    return t;
  }

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; text: string; json: () => any }> {
    const isRaw = typeof body === 'string' || Buffer.isBuffer(body);
    const res = await fetch(`${this.urls.ingest}${path}`, {
      method,
      headers: { authorization: `Bearer ${await this.token()}`, ...(body !== undefined && !isRaw ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : isRaw ? (body as string) : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
  }

  async sendHl7(message: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; ack: string; messageId: string | null; tier: string | null; headers: Headers }> {
    const r = await this.request('POST', '/v1/hl7v2', message, { 'content-type': 'x-application/hl7-v2+er7', ...headers });
    return { status: r.status, ack: r.text, messageId: r.headers.get('x-clinmesh-message-id'), tier: r.headers.get('x-clinmesh-tier'), headers: r.headers };
  }

  async mllpClient(opts: { responseTimeoutMs?: number } = {}): Promise<MllpClient> {
    const client = new MllpClient(opts);
    await client.connect('127.0.0.1', this.mllpPort);
    return client;
  }

  async query<T = Record<string, any>>(sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new Client({ connectionString: this.database });
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

  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const r = await this.request('GET', '/metrics');
    return sumSamples(r.text, name, labels);
  }

  async stop(): Promise<void> {
    await this.processes.ingest?.stop();
    await this.kafkaCluster.stop();
  }
}
