import { join } from 'node:path';
import { Client } from 'pg';
import { Kafka, logLevel } from 'kafkajs';
import { AccessTokens, ALL_SCOPES, ClientClaims } from '@clinmesh/security';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { HEADER } from '@clinmesh/topology';
import { ManagedProcess, RunningMockCluster, ServiceName, envPrefixOf, freePort, startMockCluster } from '@clinmesh/embedded-platform';
import { TestEnvironment, serviceProcessEnv, testEnvironment, uniqueName } from './test-environment';

export interface ServiceHarnessOptions {
  /** Which services to run (default: notifier only). */
  services?: readonly ServiceName[];
  env?: NodeJS.ProcessEnv;
  perService?: Partial<Record<ServiceName, NodeJS.ProcessEnv>>;
}

/**
 * Some of the services as real processes on their own Kafka-protocol cluster
 * and fresh databases (the shared registry), for contract tests that feed a
 * service registry-encoded events of the topics it consumes and read what it
 * publishes — without the services upstream of it.
 */
export class ServiceHarness {
  readonly processes = {} as Record<ServiceName, ManagedProcess>;
  readonly urls = {} as Record<ServiceName, string>;
  readonly databases = {} as Record<ServiceName, string>;
  private readonly registry: SchemaRegistry;
  private readonly schemaIds = new Map<string, number>();
  private producer: ReturnType<Kafka['producer']> | null = null;

  private constructor(readonly env: TestEnvironment, readonly name: string, readonly kafkaCluster: RunningMockCluster, readonly services: readonly ServiceName[]) {
    this.registry = new SchemaRegistry({ host: env.registryUrl, auth: env.registryAuth });
  }

  static async start(label: string, options: ServiceHarnessOptions = {}): Promise<ServiceHarness> {
    const env = testEnvironment();
    const kafka = await startMockCluster();
    const h = new ServiceHarness(env, uniqueName(label), kafka, options.services ?? ['notifier']);
    await h.boot(options);
    return h;
  }

  private async boot(options: ServiceHarnessOptions): Promise<void> {
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
        env: {
          ...serviceProcessEnv(this.env, this.kafkaCluster),
          CLINMESH_CONSUMER_SESSION_TIMEOUT_MS: '6000',
          CLINMESH_CONSUMER_HEARTBEAT_MS: '500',
          [`${p}_DATABASE_URL`]: this.databases[s],
          [`${p}_HTTP_PORT`]: String(port),
          ...options.env,
          ...options.perService?.[s],
        },
      });
    }
    for (const s of this.services) this.processes[s].start();
    // The services registered every topology topic's schema under `<topic>-value` on start.
    await this.waitReady();
  }

  async waitReady(names: readonly ServiceName[] = this.services): Promise<void> {
    await Promise.all(names.map((s) => this.processes[s].waitForHttp(`${this.urls[s]}/health/ready`, 120000)));
  }

  /** A token; `claims` bind an API client to an audience and a purpose of use. */
  async token(scopes: string[] = ALL_SCOPES, subject = 'e2e-tester', claims: ClientClaims = {}): Promise<string> {
    return new AccessTokens(this.env.authSecret).issue(subject, scopes, 3600, subject, claims);
  }

  async request(service: ServiceName, method: string, path: string, body?: unknown, headers: Record<string, string> = {}, token?: string): Promise<{ status: number; headers: Headers; text: string; json: () => any }> {
    const res = await fetch(`${this.urls[service]}${path}`, {
      method,
      headers: { authorization: `Bearer ${token ?? (await this.token())}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
  }

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

  /** Produces registry-encoded events (the topic's schema) with the runtime's headers, as an upstream service would. */
  async produce(topic: string, events: Array<{ key: string; value: { eventId: string; correlationId: string; tier?: string }; tier?: string; receivedAt?: number }>): Promise<void> {
    if (!this.producer) {
      this.producer = this.kafka().producer();
      await this.producer.connect();
    }
    const messages = await Promise.all(events.map(async (e) => ({
      key: e.key,
      value: await this.registry.encode(await this.schemaId(topic), e.value),
      headers: {
        [HEADER.eventId]: e.value.eventId,
        [HEADER.correlationId]: e.value.correlationId,
        [HEADER.tier]: e.tier ?? e.value.tier ?? 'routine',
        [HEADER.receivedAt]: String(e.receivedAt ?? Date.now()),
        [HEADER.source]: 'e2e',
      },
    })));
    await this.producer.send({ topic, acks: -1, messages });
  }

  async decode<T>(buffer: Buffer | null): Promise<T> {
    return (await this.registry.decode(buffer!)) as T;
  }

  private async schemaId(topic: string): Promise<number> {
    if (!this.schemaIds.has(topic)) this.schemaIds.set(topic, await this.registry.getLatestSchemaId(`${topic}-value`));
    return this.schemaIds.get(topic)!;
  }

  async stop(): Promise<void> {
    await this.producer?.disconnect().catch(() => undefined);
    await Promise.all(this.services.map((s) => this.processes[s].stop()));
    await this.kafkaCluster.stop();
  }
}
