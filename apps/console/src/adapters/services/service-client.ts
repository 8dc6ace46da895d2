import type { ConsoleService } from '../../config/console.config';

export interface ServiceReply<T = any> {
  service: ConsoleService;
  /** 0 when the service did not answer. */
  status: number;
  ok: boolean;
  etag: string | null;
  body: T;
  text: string;
}

/** Who a call is for: the signed-in user's token, and the console request it serves (forwarded as X-Request-Id). */
export interface Caller {
  token: string;
  requestId?: string;
}

/**
 * Calls a service's HTTP API with the signed-in user's own bearer token, so
 * each service authorises and audits the user (not the console), under the
 * console request's id, so one operator action reads as one request id in the
 * console's log and every service's.
 */
export class ServiceClient {
  constructor(private readonly urls: Record<ConsoleService, string>, private readonly timeoutMs = 10_000) {}

  async call<T = any>(service: ConsoleService, method: string, path: string, caller: Caller, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<ServiceReply<T>> {
    try {
      const res = await fetch(`${this.urls[service]}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${caller.token}`,
          ...(caller.requestId ? { 'x-request-id': caller.requestId } : {}),
          accept: 'application/json',
          ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...options.headers,
        },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await res.text();
      let body: any = text;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        /* keep text (e.g. /metrics) */
      }
      return { service, status: res.status, ok: res.ok, etag: res.headers.get('etag'), body, text };
    } catch (error) {
      return { service, status: 0, ok: false, etag: null, body: { title: 'not available', detail: (error as Error).message } as T, text: '' };
    }
  }
}
