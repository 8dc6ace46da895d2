/**
 * Process entry of the embedded schema registry:
 *   SCHEMA_REGISTRY_DATABASE_URL=postgres://... node tools/run.js libs/schema-registry/src/registry.main.js
 * Env: SCHEMA_REGISTRY_DATABASE_URL (required), SCHEMA_REGISTRY_PORT (8081),
 * SCHEMA_REGISTRY_HOST (127.0.0.1), SCHEMA_REGISTRY_BASIC_AUTH ("user:password", optional),
 * SCHEMA_REGISTRY_DEFAULT_COMPATIBILITY (BACKWARD).
 * Logs JSON lines on stdout; the launcher waits for `schema registry listening`.
 */
import { parseBasicAuthSetting } from './basic-auth.guard';
import { CompatibilityLevel, isCompatibilityLevel } from './avro-compatibility.checker';
import { createSchemaRegistryServer } from './registry.server';

function logLine(entry: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
}

async function main(): Promise<void> {
  const env = process.env;
  const databaseUrl = env['SCHEMA_REGISTRY_DATABASE_URL'];
  if (!databaseUrl) throw new Error('SCHEMA_REGISTRY_DATABASE_URL is required');
  const port = Number(env['SCHEMA_REGISTRY_PORT'] ?? '8081');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid SCHEMA_REGISTRY_PORT ${env['SCHEMA_REGISTRY_PORT']}`);
  const compatibility = env['SCHEMA_REGISTRY_DEFAULT_COMPATIBILITY'];
  if (compatibility !== undefined && !isCompatibilityLevel(compatibility)) throw new Error(`invalid SCHEMA_REGISTRY_DEFAULT_COMPATIBILITY ${compatibility}`);
  const basicAuth = env['SCHEMA_REGISTRY_BASIC_AUTH'];

  const server = createSchemaRegistryServer({
    databaseUrl,
    port,
    host: env['SCHEMA_REGISTRY_HOST'] ?? '127.0.0.1',
    auth: basicAuth ? parseBasicAuthSetting(basicAuth) : undefined,
    defaultCompatibility: compatibility?.toUpperCase() as CompatibilityLevel | undefined,
    // Per-request lines only when asked for: the launcher's log stays readable.
    logger: (entry) => {
      if (entry['level'] !== 'info' || env['SCHEMA_REGISTRY_LOG_REQUESTS'] === 'true') logLine(entry);
    },
  });
  const { url } = await server.listen();
  logLine({ level: 'info', msg: 'schema registry listening', url, auth: basicAuth ? 'basic' : 'none' });

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logLine({ level: 'info', msg: 'schema registry stopping', signal });
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logLine({ level: 'error', msg: 'schema registry close failed', error: String(error) });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  logLine({ level: 'error', msg: 'schema registry failed to start', error: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
