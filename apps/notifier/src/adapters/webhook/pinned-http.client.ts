import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, LookupFunction } from 'node:net';
import http from 'node:http';
import https from 'node:https';
import { AddressAllowlist, EndpointRules, checkEndpointUrl, judgeAddresses } from '../../domain/address-guard';
import type { AttemptResult } from '../../domain/retry-schedule';

export type Resolution = { ok: true; url: URL; port: number; address: string; family: 4 | 6 } | { ok: false; code: string; reason: string };

/**
 * The SSRF guard's transport half: resolves the endpoint's host, judges every
 * address, and pins the connection to the address it judged (the request's
 * `lookup` returns only that address, so a second DNS answer can never be
 * used); Host header and TLS servername stay the URL's host. Redirects are
 * never followed.
 */
export class PinnedHttpClient {
  constructor(
    private readonly allowlist: AddressAllowlist,
    private readonly rules: EndpointRules,
    private readonly resolve: (host: string) => Promise<string[]> = async (host) => (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address),
  ) {}

  async check(url: string): Promise<Resolution> {
    const u = checkEndpointUrl(url, this.rules);
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
    const verdict = judgeAddresses(addresses, u.port, this.allowlist);
    if (!verdict.ok) return verdict;
    return { ok: true, url: u.url, port: u.port, address: verdict.address, family: verdict.family };
  }

  /** One POST to the pinned address; 2xx only within `timeoutMs` counts (the caller judges). */
  async post(target: Extract<Resolution, { ok: true }>, body: string, headers: Record<string, string>, timeoutMs: number): Promise<AttemptResult> {
    const lookup: LookupFunction = (_host, options, cb) => {
      if ((options as { all?: boolean }).all) (cb as unknown as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [{ address: target.address, family: target.family }]);
      else cb(null, target.address, target.family);
    };
    const mod = target.url.protocol === 'https:' ? https : http;
    return new Promise<AttemptResult>((resolve) => {
      let settled = false;
      const done = (r: AttemptResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      const req = mod.request({
        protocol: target.url.protocol,
        hostname: target.url.hostname.replace(/^\[|\]$/g, ''),
        port: target.port,
        path: `${target.url.pathname}${target.url.search}`,
        method: 'POST',
        lookup,
        servername: isIP(target.url.hostname) ? undefined : target.url.hostname,
        agent: false,
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
      req.on('error', (e: NodeJS.ErrnoException) => done({ status: null, headers: {}, error: `${e.code ?? 'ERROR'}: ${String(e.message).slice(0, 200)}`, errorCode: e.code === 'ECONNREFUSED' ? 'CONNECTION_REFUSED' : 'TRANSPORT' }));
      req.end(body);
    });
  }
}

function flatten(h: http.IncomingHttpHeaders): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(h)) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}
