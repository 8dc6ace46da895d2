import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AccessTokens, ALL_SCOPES } from '@clinmesh/security';
import { topologyTopics } from '@clinmesh/topology';
import {
  DEFAULT_MLLP_PORT, DEFAULT_REGISTRY_PORT, LAUNCHED_SERVICE_NAMES as SERVICE_NAMES, SERVICE_PORTS, ServiceName, closeIntakeAndDrain, envPrefixOf, repoRoot, startEmbeddedPlatform, startServices,
} from '@clinmesh/embedded-platform';
import { ConsoleAndMonitoring, startConsoleAndMonitoring } from './console-and-monitoring';

/**
 * `npm start`: the whole backbone on one machine — PostgreSQL, the
 * Kafka-protocol mock cluster, the schema registry and the six services as
 * separate processes — then prints where to send messages and where to
 * look, and writes it all to .clinmesh/runtime.json.
 *
 * Ctrl-C (SIGINT) or SIGTERM stops in order: intake closes on every service
 * (MLLP stops, HTTP intake answers 503 + Retry-After), then the launcher
 * waits — at most CLINMESH_DRAIN_TIMEOUT_MS (default 60 s), saying what for —
 * until every consumer's lag and every outbox are zero, then stops the
 * services and the platform. A second Ctrl-C skips the wait. The children run
 * in their own process group and die with the launcher if it is killed; the
 * outboxes (the log of record) re-publish to the next, new cluster.
 */
async function main(): Promise<void> {
  const startedAt = Date.now();
  const root = repoRoot();
  const dir = process.env.CLINMESH_DIR ? resolve(process.env.CLINMESH_DIR) : join(root, '.clinmesh');
  const drainTimeoutMs = Number(process.env.CLINMESH_DRAIN_TIMEOUT_MS ?? 60000);
  const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
  const ports = Object.fromEntries(SERVICE_NAMES.map((s) => [s, port(`${envPrefixOf(s)}_HTTP_PORT`, SERVICE_PORTS[s])])) as Record<ServiceName, number>;
  const mllpPort = port('INGEST_MLLP_PORT', DEFAULT_MLLP_PORT);
  const registryPort = port('SCHEMA_REGISTRY_PORT', DEFAULT_REGISTRY_PORT);
  const say = (line: string) => process.stdout.write(`${line}\n`);

  say('clinmesh: starting the embedded platform (PostgreSQL, Kafka-protocol cluster, schema registry)…');
  const platform = await startEmbeddedPlatform({ dir, pgPort: port('CLINMESH_PG_PORT', 55432), registryPort, launcherChild: true, fast: process.env.CLINMESH_PG_FAST === '1' });
  let services: Awaited<ReturnType<typeof startServices>> | undefined;
  let consoleApp: ConsoleAndMonitoring | undefined;
  let stopping = false;
  let hurry: (() => void) | null = null;
  const stop = async (code: number, drain: boolean) => {
    if (stopping) {
      hurry?.();
      return;
    }
    stopping = true;
    if (drain && services) {
      say('\nclinmesh: stopping — closing intake, then draining (Ctrl-C again to stop at once)…');
      const interrupted = new Promise<'hurry'>((r) => (hurry = () => r('hurry')));
      const result = await Promise.race([closeIntakeAndDrain(services.processes, { timeoutMs: drainTimeoutMs, say }), interrupted]);
      if (result === 'hurry') say('clinmesh: drain skipped; whatever is left waits in the outboxes for the next start.');
      else if (result.drained) say(`clinmesh: drained in ${result.seconds.toFixed(1)} s: every outbox empty, every consumer at its log end.`);
      else say(`clinmesh: drain timed out after ${result.seconds.toFixed(0)} s, still waiting for ${result.waitingFor.join(', ')}; it stays in the outboxes for the next start.`);
    }
    say('clinmesh: stopping services and platform…');
    await consoleApp?.stop().catch(() => undefined);
    await services?.stop().catch(() => undefined);
    await platform.stop().catch(() => undefined);
    say('clinmesh: stopped.');
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0, true));
  process.on('SIGTERM', () => void stop(0, true));

  // Development only: webhook receivers on loopback are allowed past the notifier's SSRF guard (production allows none unless configured).
  const webhookAllowlist = process.env.NOTIFIER_WEBHOOK_ALLOWLIST ?? '127.0.0.0/8,::1';
  try {
    say(`clinmesh: starting ${SERVICE_NAMES.join(', ')}…`);
    services = await startServices(platform, {
      names: SERVICE_NAMES,
      ports,
      perService: {
        ingest: { INGEST_MLLP_PORT: String(mllpPort) },
        notifier: {
          NOTIFIER_WEBHOOK_ALLOWLIST: webhookAllowlist,
          // Id-only FHIR notifications point at normalization's FHIR read API, where a client can fetch the resource.
          NOTIFIER_FHIR_RESOURCE_BASE_URL: process.env.NOTIFIER_FHIR_RESOURCE_BASE_URL ?? `http://127.0.0.1:${ports.normalization}/fhir`,
        },
      },
      env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' },
      launcherChild: true,
    });
  } catch (error) {
    process.stderr.write(`clinmesh: failed to start: ${(error as Error).message}\nLogs: ${join(dir, 'logs')}\n`);
    await stop(1, false);
    return;
  }

  const token = await new AccessTokens(platform.secrets.authSecret).issue('developer', ALL_SCOPES, 24 * 3600, 'developer');
  const runtime = {
    startedAt: new Date().toISOString(),
    endpoints: {
      ingest: { http: services.urls.ingest, hl7v2: `${services.urls.ingest}/v1/hl7v2`, fhir: `${services.urls.ingest}/v1/fhir`, mllp: `mllp://127.0.0.1:${mllpPort}` },
      ...Object.fromEntries(SERVICE_NAMES.filter((s) => s !== 'ingest').map((s) => [s, { http: services!.urls[s] }])),
      schemaRegistry: platform.registry.url,
    },
    kafka: { bootstrap: platform.kafka.bootstraps, clusterIsEmbedded: true, topics: topologyTopics().map((t) => ({ name: t.name, partitions: t.partitions })) },
    schemaRegistry: { url: platform.registry.url, basicAuth: platform.registry.basicAuth },
    developerToken: token,
    webhooks: { ssrfAllowlist: webhookAllowlist, note: 'development default: the notifier may deliver to loopback receivers; outside the embedded platform nothing private or loopback is allowed unless NOTIFIER_WEBHOOK_ALLOWLIST names it' },
    logs: join(dir, 'logs'),
    /** Process ids of the launcher and its children (the children die with the launcher). */
    pids: {
      launcher: process.pid,
      ...Object.fromEntries(SERVICE_NAMES.map((s) => [s, services!.processes[s].pid])),
      'schema-registry': platform.registry.process.pid,
      kafka: platform.kafka.process.pid,
    },
    internal: {
      kafka: { brokers: platform.kafka.brokers, controlUrl: platform.kafka.controlUrl, longPollFront: platform.kafka.longPollFront },
      schemaRegistry: { url: platform.registry.url, basicAuth: platform.registry.basicAuth },
      databases: Object.fromEntries(SERVICE_NAMES.map((s) => [s, platform.databaseUrl(s)])),
      secrets: { authSecret: platform.secrets.authSecret, patientKeySecret: platform.secrets.patientKeySecret },
    },
  };
  writeFileSync(join(dir, 'runtime.json'), JSON.stringify(runtime, null, 2), { mode: 0o600 });
  consoleApp = await startConsoleAndMonitoring({ root, dir, authSecret: platform.secrets.authSecret, urls: services.urls, logDir: join(dir, 'logs') }).catch((error) => {
    process.stderr.write(`clinmesh: the console did not start: ${(error as Error).message}\n`);
    return undefined;
  });

  say('');
  say(`clinmesh is running (ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s).`);
  say(`  HL7 v2 over HTTP   POST ${services.urls.ingest}/v1/hl7v2   (Content-Type: x-application/hl7-v2+er7)`);
  say(`  HL7 v2 over MLLP   127.0.0.1:${mllpPort}`);
  say(`  FHIR R4            POST ${services.urls.ingest}/v1/fhir     (Content-Type: application/fhir+json)`);
  say(`  Tasks              GET  ${services.urls.task}/v1/tasks`);
  say(`  Webhooks           POST ${services.urls.notifier}/v1/subscriptions`);
  for (const s of SERVICE_NAMES) say(`  ${s.padEnd(20)} ${services.urls[s]}  (/health/ready, /metrics)`);
  say(`  Schema registry    ${platform.registry.url}  (basic auth in runtime.json)`);
  say(`  Kafka bootstrap    ${platform.kafka.bootstraps}  (any Kafka client; the services connect through the long-poll front ${platform.kafka.longPollFront}, counters at ${platform.kafka.controlUrl}/front)`);
  if (consoleApp) say(`  Console            ${consoleApp.consoleUrl}  (sign in with the developer token); Prometheus scrape config ${consoleApp.scrapeConfig}`);
  say(`  Logs               ${join(dir, 'logs')}`);
  say(`  Token, endpoints   ${join(dir, 'runtime.json')}  (export TOKEN=$(node -p "require('./.clinmesh/runtime.json').developerToken"))`);
  say('');
  say('Ctrl-C stops everything: intake closes first, then everything in flight drains.');
  setInterval(() => {
    for (const s of SERVICE_NAMES) {
      if (!stopping && !services!.processes[s].running) {
        process.stderr.write(`clinmesh: ${s} exited; restarting it (see ${join(dir, 'logs', `${s}.log`)})\n`);
        services!.processes[s].start();
      }
    }
  }, 2000);
}

void main().catch((error) => {
  process.stderr.write(`clinmesh: ${error?.stack ?? error}\n`);
  process.exit(1);
});
