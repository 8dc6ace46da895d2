import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { Pool } from 'pg';
import { ClinmeshError } from '@clinmesh/errors';
import { BasicAuthCredentials, BasicAuthGuard } from './basic-auth.guard';
import { COMPATIBILITY_LEVELS, CompatibilityLevel } from './avro-compatibility.checker';
import { matchRoute, registryRoutes, Route, RouteResponse } from './registry.routes';
import { RegistryErrors, SchemaRegistryError } from './schema-registry.errors';
import { SchemaRegistryService } from './schema-registry.service';
import { SchemaStoreRepository } from './schema-store.repository';

/** Options of {@link createSchemaRegistryServer}. */
export interface SchemaRegistryServerOptions {
  /** PostgreSQL URL of the registry's own database. */
  databaseUrl: string;
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** Port; default 8081 (Confluent's). 0 picks a free port. */
  port?: number;
  /** When set, every endpoint except the health checks requires these HTTP Basic credentials. */
  auth?: BasicAuthCredentials;
  /** Global compatibility level until one is set with `PUT /config`; default BACKWARD. */
  defaultCompatibility?: CompatibilityLevel;
  /** Receives one structured entry per request and per failure (never request bodies). */
  logger?: (entry: Record<string, unknown>) => void;
}

/** A registry server: `listen` connects to PostgreSQL, migrates, and starts serving. */
export interface SchemaRegistryServer {
  listen(): Promise<{ port: number; url: string }>;
  close(): Promise<void>;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
const ACCEPTED_BODY_TYPES = ['application/vnd.schemaregistry.v1+json', 'application/vnd.schemaregistry+json', 'application/json'];
const MAX_BODY_BYTES = 16 * 1024 * 1024;

/**
 * Creates a Confluent-API-compatible schema registry (Avro only) backed by
 * PostgreSQL. See the library README for the endpoints covered.
 */
export function createSchemaRegistryServer(options: SchemaRegistryServerOptions): SchemaRegistryServer {
  const defaultCompatibility = (options.defaultCompatibility ?? 'BACKWARD').toUpperCase() as CompatibilityLevel;
  if (!(COMPATIBILITY_LEVELS as readonly string[]).includes(defaultCompatibility)) {
    throw new ClinmeshError('SCHEMA_REGISTRY.CONFIG.INVALID_COMPATIBILITY', `unknown default compatibility ${String(options.defaultCompatibility)}`);
  }
  const log = options.logger ?? (() => undefined);
  const guard = options.auth ? new BasicAuthGuard(options.auth) : undefined;
  const host = options.host ?? '127.0.0.1';
  let pool: Pool | undefined;
  let server: Server | undefined;

  return {
    async listen() {
      if (server) throw new ClinmeshError('SCHEMA_REGISTRY.ALREADY_LISTENING', 'schema registry server is already listening');
      pool = new Pool({ connectionString: options.databaseUrl, max: 10 });
      // An idle client losing its connection must not crash the process; the next query reconnects.
      pool.on('error', (error) => log({ level: 'warn', msg: 'schema registry database connection error', error: error.message }));
      const store = new SchemaStoreRepository(pool);
      try {
        await store.migrate();
      } catch (error) {
        await pool.end().catch(() => undefined);
        pool = undefined;
        throw error;
      }
      const routes = registryRoutes(new SchemaRegistryService(store, defaultCompatibility));
      const http = createServer((req, res) => {
        void handle(routes, guard, log, req, res);
      });
      server = http;
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen(options.port ?? 8081, host, () => {
          http.off('error', reject);
          resolve();
        });
      });
      const port = (http.address() as AddressInfo).port;
      const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
      return { port, url: `http://${urlHost}:${port}` };
    },

    async close() {
      const http = server;
      server = undefined;
      if (http) {
        await new Promise<void>((resolve) => {
          http.close(() => resolve());
          // Keep-alive sockets of clients would otherwise hold close() open.
          http.closeAllConnections();
        });
      }
      const p = pool;
      pool = undefined;
      if (p) await p.end();
    },
  };
}

async function handle(
  routes: readonly Route[],
  guard: BasicAuthGuard | undefined,
  log: (entry: Record<string, unknown>) => void,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const started = process.hrtime.bigint();
  const method = req.method ?? 'GET';
  const url = new URL(req.url ?? '/', 'http://registry.invalid');
  let status = 500;
  try {
    const match = matchRoute(routes, method, url.pathname);
    const isPublic = match.kind === 'found' && match.route.public === true;
    if (guard && !isPublic && !guard.accepts(req.headers.authorization)) {
      res.setHeader('WWW-Authenticate', 'Basic realm="schema-registry"');
      throw RegistryErrors.unauthorized();
    }
    if (match.kind === 'not-found') throw RegistryErrors.routeNotFound();
    if (match.kind === 'method-not-allowed') throw RegistryErrors.methodNotAllowed();
    const body = await readBody(req, method);
    const result: RouteResponse = await match.route.handle({ params: match.params, query: url.searchParams, body });
    status = result.status ?? 200;
    send(res, status, 'raw' in result ? result.raw : JSON.stringify(result.body));
  } catch (error) {
    const known = toRegistryError(error);
    status = known.status;
    if (known.errorCode === 50001) log({ level: 'error', msg: 'schema registry request failed', method, path: url.pathname, error: describe(error) });
    send(res, status, JSON.stringify({ error_code: known.errorCode, message: known.message }));
  } finally {
    log({
      level: status >= 500 ? 'error' : 'info',
      msg: 'schema registry request',
      method,
      path: url.pathname,
      status,
      durationMs: Number(process.hrtime.bigint() - started) / 1e6,
    });
  }
}

function send(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) return;
  res.statusCode = status;
  res.setHeader('Content-Type', CONTENT_TYPE);
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

function toRegistryError(error: unknown): SchemaRegistryError {
  if (error instanceof SchemaRegistryError) return error;
  return RegistryErrors.store(error);
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

async function readBody(req: IncomingMessage, method: string): Promise<unknown> {
  if (method !== 'POST' && method !== 'PUT') {
    req.resume();
    return undefined;
  }
  const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (contentType !== '' && !ACCEPTED_BODY_TYPES.includes(contentType)) {
    req.resume();
    throw RegistryErrors.unsupportedMediaType(contentType);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw RegistryErrors.payloadTooLarge();
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SchemaRegistryError(400, 400, `Unrecognized JSON body: ${(error as Error).message}`);
  }
}
