import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, LookupFunction } from 'node:net';
import http from 'node:http';
import https from 'node:https';
import { AddressAllowlist, AddressVerdict, EndpointRules, checkEndpointUrl, judgeAddresses } from '../../domain/address-guard';
import type { AttemptResult } from '../../domain/retry-schedule';

export type Resolution = { ok: true; url: URL; port: number; address: string; family: 4 | 6 } | { ok: false; code: string; reason: string };

/** An idle kept-alive connection is closed after this long: before a typical server's own idle timeout (Node's 5 s). */
const IDLE_CONNECTION_MS = 4000;
/** Connections kept per endpoint address (the worker's per-subscription in-flight cap bounds use too). */
const CONNECTIONS_PER_ADDRESS = 16;
/** Judgements of resolved address sets kept (the same few endpoints are judged on every attempt). */
const VERDICTS_KEPT = 512;

/**
 * The SSRF guard's transport half: resolves the endpoint's host, judges every
 * address, and pins the connection to the address it judged (the request's
 * `lookup` returns only that address, so a second DNS answer can never be
 * used); Host header and TLS servername stay the URL's host. Redirects are
 * never followed.
 *
 * Connections are kept alive per *judged address* (and port, scheme and TLS
 * servername): a connection opened per attempt cost a TCP handshake and a
 * close on both sides for every webhook. A kept connection is only ever
 * reused for the same address the guard judged again for this attempt, so
 * pinning holds. A request on a reused connection that the server had
 * closed meanwhile (ECONNRESET) is sent once more on a new connection —
 * the receiver deduplicates by webhook-id.
 */
export class PinnedHttpClient {
  private readonly agents = new Map<string, http.Agent>();
  /**
   * The guard's judgement of an address set on a port, kept: it depends only on them and on this client's
   * fixed allowlist, and judging (range checks per address) was a measurable part of every attempt. The
   * host is still resolved on every attempt, so a changed DNS answer is judged afresh (rebinding).
   */
  private readonly verdicts = new Map<string, AddressVerdict>();
  /** The URL checks (parse, scheme, credentials) per endpoint URL, kept for the same reason; they depend on the text alone. */
  private readonly endpoints = new Map<string, ReturnType<typeof checkEndpointUrl>>();

  constructor(
    private readonly allowlist: AddressAllowlist,
    private readonly rules: EndpointRules,
    private readonly resolve: (host: string) => Promise<string[]> = async (host) => (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address),
  ) {}

  async check(url: string): Promise<Resolution> {
    const u = this.endpoint(url);
    if (!u.ok) return u;
    const host = u.url.hostname.replace(/^\[|\]$/g, '');
    let addresses: string[];
    if (isIP(host)) addresses = [host];
    else {
      try {
        addresses = await this.resolve(host);
      } catch (e) {
        return { ok: false, code: 'SSRF.UNRESOLVABLE', reason: `the host does not resolve (${(e as NodeJS.ErrnoException).code ?? 'error'})` };
      }
    }
    const verdict = this.judge(addresses, u.port);
    if (!verdict.ok) return verdict;
    return { ok: true, url: u.url, port: u.port, address: verdict.address, family: verdict.family };
  }

  private endpoint(url: string): ReturnType<typeof checkEndpointUrl> {
    return remembered(this.endpoints, url, () => checkEndpointUrl(url, this.rules));
  }

  private judge(addresses: string[], port: number): AddressVerdict {
    return remembered(this.verdicts, `${port}|${addresses.join(',')}`, () => judgeAddresses(addresses, port, this.allowlist));
  }

  /** One POST to the pinned address; 2xx only within `timeoutMs` counts (the caller judges). */
  async post(target: Extract<Resolution, { ok: true }>, body: string, headers: Record<string, string>, timeoutMs: number): Promise<AttemptResult> {
    const first = await this.send(target, body, headers, timeoutMs, this.agentFor(target));
    return first.staleConnection ? (await this.send(target, body, headers, timeoutMs, false)).result : first.result;
  }

  /** Closes every kept connection (at stop). */
  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  private agentFor(target: Extract<Resolution, { ok: true }>): http.Agent {
    const servername = isIP(target.url.hostname) ? '' : target.url.hostname;
    const key = `${target.url.protocol}|${target.address}|${target.port}|${servername}`;
    let agent = this.agents.get(key);
    if (!agent) {
      const options = { keepAlive: true, maxSockets: CONNECTIONS_PER_ADDRESS, maxFreeSockets: CONNECTIONS_PER_ADDRESS, timeout: IDLE_CONNECTION_MS };
      agent = target.url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
      this.agents.set(key, agent);
    }
    return agent;
  }

  private send(target: Extract<Resolution, { ok: true }>, body: string, headers: Record<string, string>, timeoutMs: number, agent: http.Agent | false): Promise<{ result: AttemptResult; staleConnection: boolean }> {
    const lookup: LookupFunction = (_host, options, cb) => {
      if ((options as { all?: boolean }).all) (cb as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [{ address: target.address, family: target.family }]);
      else cb(null, target.address, target.family);
    };
    const mod = target.url.protocol === 'https:' ? https : http;
    return new Promise((resolve) => {
      let settled = false;
      const done = (result: AttemptResult, staleConnection = false) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ result, staleConnection });
      };
      const req = mod.request({
        protocol: target.url.protocol,
        hostname: target.url.hostname.replace(/^\[|\]$/g, ''),
        port: target.port,
        path: `${target.url.pathname}${target.url.search}`,
        method: 'POST',
        lookup,
        servername: isIP(target.url.hostname) ? undefined : target.url.hostname,
        agent,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      }, (res) => {
        res.resume();
        res.on('end', () => done({ status: res.statusCode ?? null, headers: flatten(res.headers), error: null, errorCode: null }));
        res.on('error', (e) => done({ status: null, headers: {}, error: String(e.message).slice(0, 300), errorCode: 'TRANSPORT' }));
      });
      const timer = setTimeout(() => {
        req.destroy();
        done({ status: null, headers: {}, error: `no answer within ${timeoutMs} ms`, errorCode: 'TIMEOUT' });
      }, timeoutMs);
      req.on('error', (e: NodeJS.ErrnoException) => {
        const result: AttemptResult = { status: null, headers: {}, error: `${e.code ?? 'ERROR'}: ${String(e.message).slice(0, 200)}`, errorCode: e.code === 'ECONNREFUSED' ? 'CONNECTION_REFUSED' : 'TRANSPORT' };
        // A kept connection the server closed while it sat idle: not an answer of the endpoint.
        done(result, req.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE'));
      });
      req.end(body);
    });
  }
}

function flatten(h: http.IncomingHttpHeaders): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(h)) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/** A kept result, or the computed one kept (the map is emptied when full: it holds a few endpoints' results). */
function remembered<V>(kept: Map<string, V>, key: string, compute: () => V): V {
  let value = kept.get(key);
  if (value === undefined) {
    value = compute();
    if (kept.size >= VERDICTS_KEPT) kept.clear();
    kept.set(key, value);
  }
  return value;
}
