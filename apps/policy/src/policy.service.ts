import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EventRuntime } from '@clinmesh/event-runtime';
import { RuntimeMetrics } from '@clinmesh/observability';
import { DATA_SOURCE, EVENT_RUNTIME, RUNTIME_METRICS, SERVICE_CONFIG, ServiceConfig, ServiceSpec } from '@clinmesh/service-kit';
import { PolicyStore } from './application/policy-store';
import { PolicyAdmin } from './application/policy-admin';
import { ConsentService } from './application/consents';
import { BreakGlassService } from './application/break-glass';
import { RouteCanonicalEventHandler } from './application/route-canonical-event.handler';
import { DeliveryEventsHandler, IdentityEventsHandler } from './application/patient-events.handlers';
import type { StoresFactory } from './application/ports';
import { PolicyConfig, loadPolicyConfig } from './config/policy.config';
import { loadPolicyFiles } from './adapters/files/policy-files';
import { PolicyHeldViews1764390000000, PolicyRejections1764380000000, PolicyTables1764370000000 } from './adapters/persistence/policy.tables';
import { HeldViewRelease } from './application/held-views';
import { RejectionRepository, policyStores } from './adapters/persistence/policy.repositories';
import { PolicyMetrics } from './adapters/metrics/policy.metrics';
import { RejectionRecorder } from './adapters/http/rejections';
import { ConsentController } from './adapters/http/consent.controller';
import { PolicyController } from './adapters/http/policy.controller';
import {
  BREAK_GLASS, CONSENTS, DELIVERY_EVENTS, IDENTITY_EVENTS, POLICY_ADMIN, POLICY_CONFIG, POLICY_STORE, POLICY_STORES, ROUTE_EVENTS, POLICY_METRICS, REJECTIONS,
} from './adapters/http/policy.tokens';
import { policyConsumers } from './policy.consumers';
import { policyLineage } from './adapters/persistence/policy-lineage.reader';

const SHIPPED = Symbol('SHIPPED_POLICY');
type Shipped = ReturnType<typeof loadPolicyFiles>;
type Config = PolicyConfig & { patientKeySecret: string };

@Module({
  controllers: [ConsentController, PolicyController],
  providers: [
    // Every POLICY_* setting and the policy data are read and validated here, once: a bad value or a policy file with errors stops the start with every problem listed.
    { provide: POLICY_CONFIG, inject: [SERVICE_CONFIG], useFactory: (c: ServiceConfig): Config => ({ ...loadPolicyConfig(c.env, c.patientKeySecret), patientKeySecret: c.patientKeySecret }) },
    { provide: SHIPPED, inject: [POLICY_CONFIG], useFactory: (c: Config): Shipped => loadPolicyFiles(c.policyDir) },
    { provide: POLICY_STORES, useValue: policyStores as StoresFactory },
    { provide: POLICY_METRICS, inject: [RUNTIME_METRICS], useFactory: (m: RuntimeMetrics) => new PolicyMetrics(m) },
    { provide: REJECTIONS, inject: [DATA_SOURCE, POLICY_METRICS], useFactory: (db: DataSource, m: PolicyMetrics) => new RejectionRecorder(new RejectionRepository(db), m) },
    { provide: POLICY_STORE, inject: [SHIPPED], useFactory: (s: Shipped) => new PolicyStore(s.validator, s.policy, s.identifierSystems) },
    {
      provide: POLICY_ADMIN,
      inject: [EVENT_RUNTIME, POLICY_STORE, POLICY_STORES, SHIPPED, DATA_SOURCE],
      useFactory: async (runtime: EventRuntime, store: PolicyStore, stores: StoresFactory, shipped: Shipped, db: DataSource) => {
        const admin = new PolicyAdmin(runtime, store, stores);
        await admin.resume(shipped.policy, db);
        return admin;
      },
    },
    {
      provide: CONSENTS,
      inject: [EVENT_RUNTIME, POLICY_STORE, POLICY_STORES, POLICY_CONFIG],
      useFactory: (runtime: EventRuntime, store: PolicyStore, stores: StoresFactory, c: Config) =>
        new ConsentService(runtime, store, stores, { patientKeySecret: c.patientKeySecret, revocationLookbackMs: c.revocationLookbackMs }),
    },
    {
      provide: BREAK_GLASS,
      inject: [EVENT_RUNTIME, POLICY_STORE, POLICY_STORES, POLICY_CONFIG],
      useFactory: (runtime: EventRuntime, store: PolicyStore, stores: StoresFactory, c: Config) =>
        new BreakGlassService(runtime, store, stores, { patientKeySecret: c.patientKeySecret, maxDurationSeconds: c.breakGlassMaxSeconds, minReasonLength: c.breakGlassMinReasonLength }),
    },
    {
      provide: ROUTE_EVENTS,
      inject: [POLICY_STORE, POLICY_STORES, POLICY_CONFIG, POLICY_METRICS, POLICY_ADMIN],
      useFactory: (store: PolicyStore, stores: StoresFactory, c: Config, m: PolicyMetrics) => new RouteCanonicalEventHandler(store, stores, c.pseudonymSecret, m),
    },
    { provide: IDENTITY_EVENTS, inject: [POLICY_STORES], useFactory: (stores: StoresFactory) => new IdentityEventsHandler(stores) },
    { provide: DELIVERY_EVENTS, inject: [POLICY_STORES], useFactory: (stores: StoresFactory) => new DeliveryEventsHandler(stores) },
  ],
})
class PolicyModule {}

/** Composition root of policy: clinical.canonical.* → explained decisions → clinical.routed.* / clinical.deidentified.*, consents, break-glass, shadow mode. */
export const policyService: ServiceSpec = {
  name: 'policy',
  lineage: policyLineage,
  defaultPort: 8084,
  module: PolicyModule,
  migrations: [PolicyTables1764370000000, PolicyRejections1764380000000, PolicyHeldViews1764390000000],
  consumers: (app) => policyConsumers(app.get(ROUTE_EVENTS), app.get(IDENTITY_EVENTS), app.get(DELIVERY_EVENTS)),
  afterStart: async (app, ctx) => {
    const shipped = app.get<Shipped>(SHIPPED);
    await app.get<PolicyAdmin>(POLICY_ADMIN).recordShipped(shipped.policy, shipped.source);
    const config = app.get<Config>(POLICY_CONFIG);
    const breakGlass = app.get<BreakGlassService>(BREAK_GLASS);
    // The durable break-glass timer: due grants live in the database; any instance claims them (FOR UPDATE SKIP LOCKED).
    const stops = [periodic(config.breakGlassTimerMs, 'break-glass expiry', () => breakGlass.expireDue(ctx.logger), ctx.logger)];
    // The durable release timer of views held by delay rules (rows in pl_held_view; a restart loses nothing).
    const release = new HeldViewRelease(app.get<EventRuntime>(EVENT_RUNTIME), app.get<DataSource>(DATA_SOURCE), app.get<StoresFactory>(POLICY_STORES), app.get<PolicyMetrics>(POLICY_METRICS));
    stops.push(periodic(config.heldViewTimerMs, 'held-view release', () => release.releaseDue(ctx.logger), ctx.logger));
    // Replicas follow the database: an operator's activation or candidate through another replica applies here too.
    const admin = app.get<PolicyAdmin>(POLICY_ADMIN);
    const db = app.get<DataSource>(DATA_SOURCE);
    stops.push(periodic(config.versionFollowMs, 'policy version follow', async () => {
      const changed = await admin.follow(db);
      if (changed.active || changed.candidate !== undefined) ctx.logger.info({ activated: changed.active, candidate: changed.candidate }, 'policy version taken over from the database (changed through another replica)');
    }, ctx.logger));
    return async () => {
      await Promise.all(stops.map((stop) => stop()));
    };
  },
};

/**
 * A job every `everyMs`, one pass at a time (a slow pass is never overlapped by the next); a failed
 * pass is logged and the next one runs as usual. Returns the stop, which waits for a pass under way.
 */
function periodic(everyMs: number, what: string, job: () => Promise<unknown>, logger: { warn: (obj: object, msg: string) => void }): () => Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(job).catch((err) => logger.warn({ err: String(err) }, `${what} pass failed`));
  }, everyMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
