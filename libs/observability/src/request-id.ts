import { randomUUID } from 'node:crypto';
import type { Logger } from './logger';

/**
 * Every HTTP request carries a request id: the caller's `X-Request-Id` when it is a plain token, a
 * fresh UUID otherwise. It is echoed in the `X-Request-Id` response header and in every problem+json
 * body, and it names the request's log lines (its access line and, on a 5xx, its error line), so an
 * operator handed an error by a client finds the request in the logs.
 *
 * A caller's id lands in log lines and response headers as is, so only letters, digits and `._:-`
 * (at most 128) are taken from it: nothing that could forge a log field or split a header.
 */
const PLAIN_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export const REQUEST_ID_HEADER = 'X-Request-Id';

/** How completed requests are logged: `info` (the default), `debug`, or `off`. */
export type AccessLogLevel = 'info' | 'debug' | 'off';
export const ACCESS_LOG_LEVELS: readonly AccessLogLevel[] = ['info', 'debug', 'off'];

/** Probes and scrapes: logged one level quieter, they would drown the lines about work. */
const PROBE_ROUTES = /^\/(health\/|metrics$)/;

/** The caller's id when it is a plain token, else a new one. */
export function requestIdOf(header: string | string[] | undefined): string {
  const given = Array.isArray(header) ? header[0] : header;
  return given && PLAIN_ID.test(given) ? given : randomUUID();
}

/** A header value as a log field: plain tokens only (see PLAIN_ID), else absent. */
export function plainHeader(header: string | string[] | undefined): string | undefined {
  const given = Array.isArray(header) ? header[0] : header;
  return given && PLAIN_ID.test(given) ? given : undefined;
}

interface RequestLike {
  method?: string;
  headers: Record<string, string | string[] | undefined>;
  baseUrl?: string;
  route?: { path?: unknown };
  requestId?: string;
  principal?: { subject?: string };
}
interface ResponseLike {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  once(event: 'finish' | 'close', listener: () => void): unknown;
}

/**
 * The route pattern a request matched (`/v1/persons/:epid`), never the concrete path or query:
 * paths and queries may carry identifiers or names (a FHIR search), patterns never do.
 */
export function routeOf(req: RequestLike): string {
  const path = req.route?.path;
  return typeof path === 'string' ? `${req.baseUrl ?? ''}${path}` : 'unmatched';
}

/**
 * Express middleware, first in the chain: assigns the request id, sets the response header, and
 * logs one line when the response is finished (or the connection closed before it was):
 * request id, correlation id when the caller sent one, method, route pattern, status, duration,
 * and the authenticated subject (a client id, not a person).
 */
export function requestIds(logger: Logger, accessLog: AccessLogLevel) {
  return (req: RequestLike, res: ResponseLike, next: () => void): void => {
    const started = process.hrtime.bigint();
    const requestId = requestIdOf(req.headers['x-request-id']);
    req.requestId = requestId;
    res.setHeader(REQUEST_ID_HEADER, requestId);
    if (accessLog !== 'off') {
      let logged = false;
      const log = (completed: boolean) => {
        if (logged) return;
        logged = true;
        const route = routeOf(req);
        const line = {
          requestId, correlationId: plainHeader(req.headers['x-correlation-id']), method: req.method, route,
          status: res.statusCode, completed, ms: Number(process.hrtime.bigint() - started) / 1e6, subject: req.principal?.subject,
        };
        if (accessLog === 'info' && !PROBE_ROUTES.test(route)) logger.info(line, 'http request');
        else logger.debug(line, 'http request');
      };
      res.once('finish', () => log(true));
      res.once('close', () => log(false));
    }
    next();
  };
}
