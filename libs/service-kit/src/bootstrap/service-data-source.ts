import { DataSource, MixedList, type Logger } from 'typeorm';
import { EVENT_RUNTIME_MIGRATIONS } from '@clinmesh/event-runtime';
import { AuditTrailTable1732200000001 } from '@clinmesh/security';

/**
 * Session settings of every service connection (libpq `options`, applied at connect, above the
 * database's and the server's own defaults): JIT compilation off. A service runs short OLTP
 * statements, where JIT only ever costs — and on a table whose statistics lag its growth (a new
 * index before autovacuum's first ANALYZE) the planner's inflated estimates crossed jit_above_cost:
 * measured in the identity bench, 217 ms of JIT compilation for a candidate search that ran in 7 ms.
 */
export const SERVICE_SESSION_OPTIONS = '-c jit=off';

export interface ServiceDataSourceSettings {
  service: string;
  url: string;
  /** The service's own migrations (after the runtime's tables and the audit trail). */
  migrations?: MixedList<Function | string>;
  entities?: MixedList<Function | string>;
  poolSize?: number;
  idleTimeoutMs?: number;
  /** Sees every statement (a bench counts them); none by default. */
  statementLogger?: Logger;
}

/** The DataSource a service runs on (not yet initialised): its pool, its session settings, its migrations. */
export function serviceDataSource(settings: ServiceDataSourceSettings): DataSource {
  return new DataSource({
    type: 'postgres',
    url: settings.url,
    entities: settings.entities ?? [],
    migrations: [...EVENT_RUNTIME_MIGRATIONS, AuditTrailTable1732200000001, ...((settings.migrations as Function[]) ?? [])],
    migrationsTableName: 'cm_migrations',
    ...(settings.statementLogger ? { logging: ['query' as const], logger: settings.statementLogger } : {}),
    extra: {
      max: settings.poolSize ?? 20,
      // Idle connections are kept for five minutes (pg's default is 10 s): a service's load comes in bursts, and
      // every reconnect costs a backend fork and a SCRAM handshake on both sides — measured as a large share of
      // PostgreSQL's CPU per message in the pipeline bench.
      idleTimeoutMillis: settings.idleTimeoutMs ?? 300_000,
      application_name: settings.service,
      options: SERVICE_SESSION_OPTIONS,
      ...socketHostOf(settings.url),
    },
  });
}

/**
 * A `host` query parameter naming a Unix-domain socket directory (libpq's form, and the embedded platform's
 * URLs): TypeORM builds the pool from the URL's host and port and drops its query, so the socket is handed
 * to node-postgres here. Without one, the URL's TCP host and port are used.
 */
function socketHostOf(url: string): { host?: string } {
  const host = URL.canParse(url) ? new URL(url).searchParams.get('host') : null;
  return host?.startsWith('/') ? { host } : {};
}
