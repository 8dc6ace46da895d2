import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AccessTokens, SCOPES } from '@clinmesh/security';
import { ManagedProcess, SERVICE_NAMES, ServiceName, envPrefixOf } from '@clinmesh/embedded-platform';

/** Ten years: the Prometheus token lasts until it is rotated (delete the token file and restart), not 24 hours like the developer token. */
const PROMETHEUS_TOKEN_TTL_SECONDS = 10 * 365 * 24 * 3600;

export interface ConsoleAndMonitoring {
  consoleUrl: string;
  scrapeConfig: string;
  stop(): Promise<void>;
}

/**
 * What `npm start` adds for issue 14: the operations console process (default
 * port 8090, CONSOLE_HTTP_PORT) and, under <dir>/monitoring/, a metrics-only
 * bearer token for Prometheus (scope metrics:read only, kept across restarts
 * until rotated) with a ready scrape configuration that loads the rules of
 * deploy/monitoring.
 */
export async function startConsoleAndMonitoring(o: {
  root: string; dir: string; authSecret: string; urls: Record<ServiceName, string>; logDir: string;
}): Promise<ConsoleAndMonitoring> {
  const tokens = new AccessTokens(o.authSecret);
  const monitoringDir = join(o.dir, 'monitoring');
  mkdirSync(monitoringDir, { recursive: true });
  const tokenFile = join(monitoringDir, 'prometheus.token');
  let token = existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : '';
  const valid = token ? await tokens.verify(token).then((p) => p.scopes.has(SCOPES.metricsRead), () => false) : false;
  if (!valid) {
    token = await tokens.issue('prometheus', [SCOPES.metricsRead], PROMETHEUS_TOKEN_TTL_SECONDS, 'prometheus');
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  }
  const scrapeConfig = join(monitoringDir, 'prometheus.yml');
  const targets = SERVICE_NAMES.map((s) => `      - job_name: ${s}\n        authorization: { type: Bearer, credentials_file: ${tokenFile} }\n        static_configs: [{ targets: ['${o.urls[s].replace(/^https?:\/\//, '')}'] }]`);
  writeFileSync(scrapeConfig, [
    '# Written by npm start (deploy/embedded/console-and-monitoring.ts): scrape the embedded services with the metrics-only token.',
    '# Run: prometheus --config.file=' + scrapeConfig,
    'global: { scrape_interval: 15s, evaluation_interval: 15s }',
    `rule_files: ['${join(o.root, 'deploy', 'monitoring', 'prometheus', 'clinmesh.rules.yml')}']`,
    'scrape_configs:',
    ...targets.map((t) => t.replace(/^ {4}/gm, '')),
    '',
  ].join('\n'));

  const port = Number(process.env.CONSOLE_HTTP_PORT ?? 8090);
  const consoleProcess = new ManagedProcess({
    name: 'console',
    entry: 'apps/console/src/main.js',
    env: {
      ...process.env,
      CONSOLE_HTTP_PORT: String(port),
      CLINMESH_AUTH_SECRET: o.authSecret,
      CONSOLE_SAMPLER_TOKEN: token,
      ...Object.fromEntries(SERVICE_NAMES.map((s) => [`CONSOLE_${envPrefixOf(s)}_URL`, o.urls[s]])),
    },
    logFile: join(o.logDir, 'console.log'),
    launcherChild: true,
  });
  consoleProcess.start();
  const consoleUrl = `http://127.0.0.1:${port}`;
  await consoleProcess.waitForHttp(`${consoleUrl}/`, 60000);
  return { consoleUrl, scrapeConfig, stop: () => consoleProcess.stop() };
}
