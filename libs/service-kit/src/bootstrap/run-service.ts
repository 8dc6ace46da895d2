import { DynamicModule, INestApplication, Module, Type } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express from 'express';
import { DataSource, MixedList } from 'typeorm';
import { CONSUMER_DIRECTORY_TOPIC, ConsumerDefinition, DEFAULT_BULK_PACING, EventRuntime, KafkaAdminTopicProvisioner, LANE_MODES, LaneMode, isLaneMode, MockControlTopicProvisioner, TopicProvisioner } from '@clinmesh/event-runtime';
import { Logger, RuntimeMetrics, createLogger, requestIds } from '@clinmesh/observability';
import { AccessTokens, AuditTrail } from '@clinmesh/security';
import { loadSchemaCatalog } from '@clinmesh/schemas';
import { Tier, isTier, topologyTopics } from '@clinmesh/topology';
import { ServiceConfig, loadServiceConfig } from '../config/service-config';
import { serviceDataSource } from './service-data-source';
import { ACCESS_TOKENS, AUDIT_TRAIL, DATA_SOURCE, EVENT_RUNTIME, LOGGER, RUNTIME_METRICS, SERVICE_CONFIG, SERVICE_STARTUP } from '../http/tokens';
import { ScopeGuard } from '../http/scope.guard';
import { ProblemJsonFilter } from '../http/problem-json.filter';
import { HealthController, ServiceStartup } from '../http/health.controller';
import { MetricsController } from '../http/metrics.controller';
import { OperationsController } from '../http/operations.controller';
import { NestPinoLogger } from '../http/nest-pino.logger';
import { LineageController } from '../http/lineage.controller';
import { AuditController } from '../http/audit.controller';
import { LINEAGE_REGISTRY, LineageContributor, LineageRegistry } from '../lineage/lineage.port';

export interface ServiceSpec {
  name: string;
  defaultPort: number;
  /** The app's Nest module: its controllers and application handlers. */
  module: Type<unknown>;
  entities?: MixedList<Function>;
  migrations?: MixedList<Function>;
  /** Typed consumers (tieredConsumer / topicConsumer), built from the app's handlers once the Nest container exists. */
  consumers?: (app: INestApplication, ctx: ServiceContext) => ConsumerDefinition[];
  /** Extra body parsers (e.g. raw HL7) registered before the JSON parser. */
  bodyParsers?: (app: NestExpressApplication, config: ServiceConfig) => void;
  /**
   * Started after HTTP and consumers (e.g. the MLLP listener, timers, workers); returns its stop
   * function, or hooks: `closeIntake` (stop accepting new work: runs first on a graceful stop,
   * before the service drains) and `stop`.
   */
  afterStart?: (app: INestApplication, ctx: ServiceContext) => Promise<ServiceHooks | (() => Promise<void>) | void>;
  /** What this service did for a message, from its own tables: GET /v1/lineage/{correlationId} adds it to the runtime part. */
  lineage?: (app: INestApplication, ctx: ServiceContext) => LineageContributor;
}

/** What a service's afterStart hands back for an orderly stop. */
export interface ServiceHooks {
  /** Stop accepting new work (MLLP stops accepting, HTTP intake answers 503 with Retry-After). */
  closeIntake?: () => Promise<void>;
  /** Stop background work (listeners, timers, workers). */
  stop?: () => Promise<void>;
}

export interface ServiceContext {
  config: ServiceConfig;
  logger: Logger;
  metrics: RuntimeMetrics;
  runtime: EventRuntime;
  dataSource: DataSource;
}

export interface RunningService extends ServiceContext {
  app: INestApplication;
  url: string;
  stop(): Promise<void>;
}

/**
 * The composition root shared by all six services: configuration, logger,
 * metrics, database (migrations applied), event runtime, the Nest HTTP app
 * with auth, problem+json, health, metrics and operator endpoints — then the
 * tier consumers, all joined together. SIGTERM/SIGINT stop it cleanly.
 */
export async function runService(spec: ServiceSpec, options: { handleSignals?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<RunningService> {
  const config = loadServiceConfig(spec.name, spec.defaultPort, options.env ?? process.env);
  const relay = relaySettings(options.env ?? process.env);
  const logger = createLogger(spec.name, config.logLevel);
  const metrics = new RuntimeMetrics(spec.name);
  const dataSource = serviceDataSource({
    service: spec.name, url: config.databaseUrl, migrations: spec.migrations, entities: spec.entities,
    poolSize: Number(config.env('DB_POOL_SIZE') ?? 20), idleTimeoutMs: Number(config.env('DB_IDLE_TIMEOUT_MS') ?? 300_000),
  });
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'all' });

  const provisioner: TopicProvisioner | undefined = config.topicProvisioning.mode === 'mock'
    ? new MockControlTopicProvisioner(config.topicProvisioning.controlUrl)
    : undefined;
  const runtime = new EventRuntime({
    service: spec.name,
    kafka: { ...config.kafka, clientId: config.kafka.clientId ?? spec.name },
    registry: config.registry,
    dataSource,
    catalog: loadSchemaCatalog(),
    metrics,
    logger,
    provisioner,
    consumer: { ...config.consumer, ...(relay.maxWaitTimeMs ? { maxWaitTimeMs: relay.maxWaitTimeMs } : {}), ...(relay.lanes ? { lanes: relay.lanes } : {}), ...(relay.gatherMs ? { gatherMs: relay.gatherMs } : {}), ...(relay.combineRecords !== undefined ? { combineRecords: relay.combineRecords } : {}),
      ...(relay.bulkShare !== undefined || relay.bulkPacedChunkSize !== undefined
        ? { bulkPacing: { ...DEFAULT_BULK_PACING, share: relay.bulkShare ?? DEFAULT_BULK_PACING.share, chunkSize: relay.bulkPacedChunkSize ?? DEFAULT_BULK_PACING.chunkSize } } : {}) },
    relay,
  });
  if (config.topicProvisioning.mode === 'admin') {
    const admin = runtime.kafka.admin();
    await admin.connect();
    await new KafkaAdminTopicProvisioner(admin, config.topicProvisioning.replicationFactor).ensureTopics([...topologyTopics(), CONSUMER_DIRECTORY_TOPIC]);
    await admin.disconnect();
  }
  const tokens = new AccessTokens(config.authSecret);
  const audit = new AuditTrail(dataSource);
  const lineage = new LineageRegistry();
  const startup = new ServiceStartup();

  @Module({})
  class ServiceKitModule {
    static forRoot(): DynamicModule {
      const infra = [
        { provide: SERVICE_CONFIG, useValue: config },
        { provide: EVENT_RUNTIME, useValue: runtime },
        { provide: DATA_SOURCE, useValue: dataSource },
        { provide: ACCESS_TOKENS, useValue: tokens },
        { provide: AUDIT_TRAIL, useValue: audit },
        { provide: RUNTIME_METRICS, useValue: metrics },
        { provide: LOGGER, useValue: logger },
        { provide: LINEAGE_REGISTRY, useValue: lineage },
      ];
      return {
        module: ServiceKitModule,
        global: true,
        imports: [spec.module],
        controllers: [HealthController, MetricsController, OperationsController, LineageController, AuditController],
        providers: [...infra, { provide: SERVICE_STARTUP, useValue: startup }, { provide: APP_GUARD, useClass: ScopeGuard }, { provide: APP_FILTER, useClass: ProblemJsonFilter }],
        exports: infra.map((p) => p.provide),
      };
    }
  }

  const app = await NestFactory.create<NestExpressApplication>(ServiceKitModule.forRoot(), { logger: new NestPinoLogger(logger), bodyParser: false });
  app.disable('x-powered-by');
  // First: every request gets its id before a body parser or guard can refuse it.
  app.use(requestIds(logger, config.http.accessLog));
  spec.bodyParsers?.(app, config);
  app.use(express.json({ limit: config.env('JSON_LIMIT') ?? '1mb', type: ['application/json', 'application/*+json'] }));
  // No Nest shutdown hooks: on SIGTERM/SIGINT they close the app and re-raise the signal at once,
  // which cut the orderly stop below (close intake → drain → stop) off before it started.
  await app.listen(config.http.port, config.http.host);
  const url = `http://${config.http.host}:${config.http.port}`;

  const ctx: ServiceContext = { config, logger, metrics, runtime, dataSource };
  lineage.contributor = spec.lineage?.(app, ctx);
  await runtime.start(spec.consumers?.(app, ctx) ?? []);
  const started = (await spec.afterStart?.(app, ctx)) ?? undefined;
  const hooks: ServiceHooks = typeof started === 'function' ? { stop: started } : started ?? {};
  startup.complete = true;
  logger.info({ url, consumers: runtime.consumerStatus().map((c) => c.group) }, `${spec.name} started`);

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      logger.info('shutting down');
      if (hooks.closeIntake) await hooks.closeIntake().catch((err) => logger.warn({ err: String(err) }, 'closing intake failed'));
      if (hooks.stop) await hooks.stop().catch((err) => logger.warn({ err: String(err) }, 'stop hook failed'));
      await runtime.stop();
      await app.close().catch(() => undefined);
      await dataSource.destroy().catch(() => undefined);
      logger.info('stopped');
    })();
    return stopping;
  };
  const exit = () => void stop().then(() => process.exit(0), () => process.exit(1));
  if (options.handleSignals !== false) {
    process.once('SIGTERM', exit);
    // Under the embedded launcher, Ctrl-C is the launcher's: it closes intake everywhere and drains
    // across the services before it stops them (SIGTERM).
    if (!launcherControl()) process.once('SIGINT', exit);
  }
  if (launcherControl()) serveLauncher({ logger, runtime, closeIntake: hooks.closeIntake });
  return { ...ctx, app, url, stop };
}

/** Entry-point helper: run, and exit non-zero with every config error listed on failure. */
export function main(spec: ServiceSpec): void {
  runService(spec).catch((error) => {
    const e = error as Error;
    process.stderr.write(`${JSON.stringify({ level: 'fatal', service: spec.name, msg: 'failed to start', err: { message: e?.message, stack: e?.stack } })}\n`);
    process.exit(1);
  });
}

/** Relay settings (retention, crash-fallback poll) from CLINMESH_* variables, validated together. */
export function relaySettings(env: NodeJS.ProcessEnv): {
  idlePollMs?: number;
  /** CLINMESH_OUTBOX_VACUUM_EVERY_ROWS=2000 (0 = off): the relay vacuums cm_outbox after this many rows left it. */
  vacuumEveryRows?: number;
  retention: { outboxHours?: number; outboxRows?: number; inboxHours?: number };
  /** CLINMESH_FETCH_MAX_WAIT_MS=stat=20,urgent=100,routine=250,bulk=500 (any subset): consumer fetch max wait per tier. */
  maxWaitTimeMs?: Partial<Record<Tier, number>>;
  /** CLINMESH_CONSUMER_GATHER_MS=stat=5,urgent=20,routine=100,bulk=200 (any subset; 0 = off): how long a consumer with a backlog gathers small fetched batches into one chunk. */
  gatherMs?: Partial<Record<Tier, number>>;
  /** CLINMESH_CONSUMER_COMBINE_RECORDS=500 (0 = off): most records the chunks of one consumer lane share in one transaction (group commit). */
  combineRecords?: number;
  /** CLINMESH_CONSUMER_LANES=stat-main|tier|definition: how consumer definitions share kafkajs consumers (event-runtime README). */
  lanes?: LaneMode;
  /** CLINMESH_CONSUMER_BULK_SHARE=0.1 (0 < share ≤ 1; 1 = off): the share of its time bulk takes while stat or urgent was active in the last second. */
  bulkShare?: number;
  /** CLINMESH_CONSUMER_BULK_PACED_CHUNK_SIZE=4 (≥ 1): the most events in one bulk chunk while bulk is paced. */
  bulkPacedChunkSize?: number;
} {
  const errors: string[] = [];
  const num = (name: string, integer: boolean) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) errors.push(`${name} must be a non-negative ${integer ? 'integer' : 'number'} (got "${raw}")`);
    return n;
  };
  const settings: ReturnType<typeof relaySettings> = {
    idlePollMs: num('CLINMESH_RELAY_IDLE_POLL_MS', true),
    vacuumEveryRows: num('CLINMESH_OUTBOX_VACUUM_EVERY_ROWS', true),
    combineRecords: num('CLINMESH_CONSUMER_COMBINE_RECORDS', true),
    bulkShare: num('CLINMESH_CONSUMER_BULK_SHARE', false),
    bulkPacedChunkSize: num('CLINMESH_CONSUMER_BULK_PACED_CHUNK_SIZE', true),
    retention: {
      outboxHours: num('CLINMESH_OUTBOX_RETENTION_HOURS', false),
      outboxRows: num('CLINMESH_OUTBOX_RETENTION_ROWS', true),
      inboxHours: num('CLINMESH_INBOX_RETENTION_HOURS', false),
    },
  };
  const perTier = (name: string): Partial<Record<Tier, number>> | undefined => {
    const raw = env[name];
    if (!raw) return undefined;
    const out: Partial<Record<Tier, number>> = {};
    for (const part of raw.split(',')) {
      const [tier, ms] = part.split('=').map((x) => x.trim());
      if (!isTier(tier) || !/^\d+$/.test(ms ?? '')) errors.push(`${name}: "${part}" is not <tier>=<ms> (tiers: stat, urgent, routine, bulk)`);
      else out[tier] = Number(ms);
    }
    return out;
  };
  const maxWaitTimeMs = perTier('CLINMESH_FETCH_MAX_WAIT_MS');
  const gatherMs = perTier('CLINMESH_CONSUMER_GATHER_MS');
  const lanes = env.CLINMESH_CONSUMER_LANES || undefined;
  if (lanes !== undefined && !isLaneMode(lanes)) errors.push(`CLINMESH_CONSUMER_LANES must be one of ${LANE_MODES.join(', ')} (got "${lanes}")`);
  if (settings.bulkShare !== undefined && !(settings.bulkShare > 0 && settings.bulkShare <= 1)) errors.push(`CLINMESH_CONSUMER_BULK_SHARE must be above 0 and at most 1 (got "${env.CLINMESH_CONSUMER_BULK_SHARE}")`);
  if (settings.bulkPacedChunkSize === 0) errors.push('CLINMESH_CONSUMER_BULK_PACED_CHUNK_SIZE must be at least 1 (got "0")');
  if (errors.length) throw new Error(`invalid configuration:\n  - ${errors.join('\n  - ')}`);
  return { ...settings, maxWaitTimeMs, gatherMs, lanes: lanes as LaneMode | undefined };
}

function launcherControl(): boolean {
  return process.env.CLINMESH_LAUNCHER_CONTROL === 'ipc' && typeof process.send === 'function';
}

/** A control request from the embedded launcher over the IPC channel, and its answer. */
export type LauncherRequest = { id: number; type: 'close-intake' | 'drain-status' };
export type LauncherReply = { id: number; ok: boolean; result?: unknown; error?: string };

/**
 * The launcher's side channel (only when it started this process): close
 * intake (ingest stops MLLP and answers 503 on HTTP intake) and report what
 * is still to drain — the launcher waits for every service before stopping any.
 */
function serveLauncher(deps: { logger: Logger; runtime: EventRuntime; closeIntake?: () => Promise<void> }): void {
  process.on('message', (raw: unknown) => {
    const request = raw as LauncherRequest;
    if (!request || typeof request.id !== 'number') return;
    const answer = async (): Promise<unknown> => {
      if (request.type === 'close-intake') {
        deps.logger.info('launcher: closing intake');
        await deps.closeIntake?.();
        return { closed: !!deps.closeIntake };
      }
      if (request.type === 'drain-status') return deps.runtime.drainStatus();
      throw new Error(`unknown launcher request ${String(request.type)}`);
    };
    answer().then(
      (result) => process.send?.({ id: request.id, ok: true, result } satisfies LauncherReply),
      (error) => process.send?.({ id: request.id, ok: false, error: String((error as Error)?.message ?? error) } satisfies LauncherReply),
    );
  });
}
