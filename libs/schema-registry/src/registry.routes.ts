import { RegistryErrors } from './schema-registry.errors';
import { SchemaRegistryService, VersionSpec } from './schema-registry.service';

/** What a route handler gets: decoded path parameters, query and parsed JSON body. */
export interface RouteRequest {
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly body: unknown;
}

/** What a handler answers: JSON `body`, or `raw` text sent as is (the `/schema` endpoints). */
export type RouteResponse = { status?: number; body: unknown } | { status?: number; raw: string };

/** One route: method, path template (`:name` segments) and whether it skips authentication. */
export interface Route {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly public?: boolean;
  readonly handle: (request: RouteRequest) => Promise<RouteResponse>;
}

const MAX_INT = 2 ** 31 - 1;

/** Parses a `{version}` path segment: 1..2^31-1, `latest`, or -1 (latest), else 42202. */
export function parseVersionSpec(value: string): VersionSpec {
  if (value.toLowerCase() === 'latest' || value === '-1') return 'latest';
  if (/^\d+$/.test(value)) {
    const n = Number(value);
    if (n >= 1 && n <= MAX_INT) return n;
  }
  throw RegistryErrors.invalidVersion(value);
}

function parseId(value: string): number {
  // Confluent answers a non-numeric id like an unknown one.
  if (!/^\d+$/.test(value) || Number(value) > MAX_INT) throw RegistryErrors.schemaNotFound(value);
  return Number(value);
}

const flag = (query: URLSearchParams, name: string): boolean => query.get(name)?.toLowerCase() === 'true';
const json = (body: unknown): RouteResponse => ({ body });

/** The Confluent Schema Registry REST API, as routes over {@link SchemaRegistryService}. */
export function registryRoutes(service: SchemaRegistryService): Route[] {
  return [
    { method: 'GET', path: '/', handle: async () => json({}) },
    { method: 'GET', path: '/health', public: true, handle: async () => json({ status: 'UP' }) },
    { method: 'GET', path: '/health/live', public: true, handle: async () => json({ status: 'UP' }) },
    {
      method: 'GET',
      path: '/health/ready',
      public: true,
      handle: async () => {
        try {
          await service.ready();
          return json({ status: 'UP' });
        } catch {
          return { status: 503, body: { status: 'DOWN' } };
        }
      },
    },

    { method: 'GET', path: '/schemas/types', handle: async () => json(['AVRO']) },
    { method: 'GET', path: '/schemas/ids/:id', handle: async ({ params }) => json(await service.schemaById(parseId(params.id))) },
    { method: 'GET', path: '/schemas/ids/:id/schema', handle: async ({ params }) => ({ raw: await service.rawSchemaById(parseId(params.id)) }) },
    {
      method: 'GET',
      path: '/schemas/ids/:id/versions',
      handle: async ({ params, query }) => json(await service.subjectVersionsOfSchema(parseId(params.id), flag(query, 'deleted'))),
    },
    {
      method: 'GET',
      path: '/schemas/ids/:id/subjects',
      handle: async ({ params, query }) => json(await service.subjectsOfSchema(parseId(params.id), flag(query, 'deleted'))),
    },

    {
      method: 'GET',
      path: '/subjects',
      handle: async ({ query }) => json(await service.subjects(flag(query, 'deleted'), query.get('subjectPrefix') ?? undefined)),
    },
    {
      method: 'POST',
      path: '/subjects/:subject',
      handle: async ({ params, body, query }) => json(await service.lookup(params.subject, body, flag(query, 'deleted'))),
    },
    { method: 'DELETE', path: '/subjects/:subject', handle: async ({ params, query }) => json(await service.deleteSubject(params.subject, flag(query, 'permanent'))) },
    { method: 'GET', path: '/subjects/:subject/versions', handle: async ({ params, query }) => json(await service.versions(params.subject, flag(query, 'deleted'))) },
    { method: 'POST', path: '/subjects/:subject/versions', handle: async ({ params, body }) => json(await service.register(params.subject, body)) },
    {
      method: 'GET',
      path: '/subjects/:subject/versions/:version',
      handle: async ({ params, query }) => json(await service.version(params.subject, parseVersionSpec(params.version), flag(query, 'deleted'))),
    },
    {
      method: 'GET',
      path: '/subjects/:subject/versions/:version/schema',
      handle: async ({ params, query }) => ({ raw: (await service.version(params.subject, parseVersionSpec(params.version), flag(query, 'deleted'))).schema }),
    },
    {
      method: 'DELETE',
      path: '/subjects/:subject/versions/:version',
      handle: async ({ params, query }) => json(await service.deleteVersion(params.subject, parseVersionSpec(params.version), flag(query, 'permanent'))),
    },

    {
      method: 'POST',
      path: '/compatibility/subjects/:subject/versions/:version',
      handle: async ({ params, body, query }) =>
        json(await service.testCompatibility(params.subject, parseVersionSpec(params.version), body, flag(query, 'verbose'))),
    },
    {
      method: 'POST',
      path: '/compatibility/subjects/:subject/versions',
      handle: async ({ params, body, query }) => json(await service.testCompatibility(params.subject, undefined, body, flag(query, 'verbose'))),
    },

    { method: 'GET', path: '/config', handle: async () => json({ compatibilityLevel: await service.globalCompatibility() }) },
    { method: 'PUT', path: '/config', handle: async ({ body }) => json({ compatibility: await service.setCompatibility(null, body) }) },
    { method: 'DELETE', path: '/config', handle: async () => json({ compatibilityLevel: await service.deleteCompatibility(null) }) },
    {
      method: 'GET',
      path: '/config/:subject',
      handle: async ({ params, query }) => json({ compatibilityLevel: await service.subjectCompatibility(params.subject, flag(query, 'defaultToGlobal')) }),
    },
    { method: 'PUT', path: '/config/:subject', handle: async ({ params, body }) => json({ compatibility: await service.setCompatibility(params.subject, body) }) },
    { method: 'DELETE', path: '/config/:subject', handle: async ({ params }) => json({ compatibilityLevel: await service.deleteCompatibility(params.subject) }) },

    { method: 'GET', path: '/mode', handle: async () => json({ mode: await service.globalMode() }) },
    { method: 'PUT', path: '/mode', handle: async ({ body, query }) => json({ mode: await service.setMode(null, body, flag(query, 'force')) }) },
    { method: 'DELETE', path: '/mode', handle: async () => json({ mode: await service.deleteMode(null) }) },
    {
      method: 'GET',
      path: '/mode/:subject',
      handle: async ({ params, query }) => json({ mode: await service.subjectMode(params.subject, flag(query, 'defaultToGlobal')) }),
    },
    { method: 'PUT', path: '/mode/:subject', handle: async ({ params, body, query }) => json({ mode: await service.setMode(params.subject, body, flag(query, 'force')) }) },
    { method: 'DELETE', path: '/mode/:subject', handle: async ({ params }) => json({ mode: await service.deleteMode(params.subject) }) },
  ];
}

/** Result of matching a request path against the route table. */
export type RouteMatch =
  | { kind: 'found'; route: Route; params: Record<string, string> }
  | { kind: 'method-not-allowed' }
  | { kind: 'not-found' };

/**
 * Matches a raw (still percent-encoded) path. Splitting before decoding lets
 * a subject contain an encoded slash (`a%2Fb`), as Confluent allows.
 */
export function matchRoute(routes: readonly Route[], method: string, rawPath: string): RouteMatch {
  const trimmed = rawPath.length > 1 ? rawPath.replace(/\/+$/, '') : rawPath;
  const segments = trimmed === '/' ? [] : trimmed.slice(1).split('/');
  let pathMatched = false;
  for (const route of routes) {
    const template = route.path === '/' ? [] : route.path.slice(1).split('/');
    if (template.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < template.length && ok; i++) {
      if (template[i].startsWith(':')) {
        try {
          params[template[i].slice(1)] = decodeURIComponent(segments[i]);
        } catch {
          ok = false;
        }
      } else ok = template[i] === segments[i];
    }
    if (!ok) continue;
    if (route.method === method) return { kind: 'found', route, params };
    pathMatched = true;
  }
  return pathMatched ? { kind: 'method-not-allowed' } : { kind: 'not-found' };
}
