import { BlockList, isIP } from 'node:net';

/**
 * SSRF guard, pure part: which resolved addresses a webhook may be sent to.
 * Ranges are checked with node's `net.BlockList` (CIDR arithmetic for v4 and v6).
 */
export type AddressClass = 'loopback' | 'private' | 'link-local' | 'unique-local' | 'metadata' | 'unspecified' | 'multicast' | 'reserved';

const RANGES: Array<[AddressClass, string, number, 'ipv4' | 'ipv6']> = [
  ['metadata', '169.254.169.254', 32, 'ipv4'],
  ['metadata', '169.254.170.2', 32, 'ipv4'],
  ['metadata', '100.100.100.200', 32, 'ipv4'],
  ['metadata', 'fd00:ec2::254', 128, 'ipv6'],
  ['loopback', '127.0.0.0', 8, 'ipv4'],
  ['loopback', '::1', 128, 'ipv6'],
  ['unspecified', '0.0.0.0', 8, 'ipv4'],
  ['unspecified', '::', 128, 'ipv6'],
  ['private', '10.0.0.0', 8, 'ipv4'],
  ['private', '172.16.0.0', 12, 'ipv4'],
  ['private', '192.168.0.0', 16, 'ipv4'],
  ['private', '100.64.0.0', 10, 'ipv4'],
  ['private', '198.18.0.0', 15, 'ipv4'],
  ['link-local', '169.254.0.0', 16, 'ipv4'],
  ['link-local', 'fe80::', 10, 'ipv6'],
  ['unique-local', 'fc00::', 7, 'ipv6'],
  ['multicast', '224.0.0.0', 4, 'ipv4'],
  ['multicast', 'ff00::', 8, 'ipv6'],
  ['reserved', '240.0.0.0', 4, 'ipv4'],
  ['reserved', '192.0.0.0', 24, 'ipv4'],
  ['reserved', '64:ff9b::', 96, 'ipv6'],
];

const CLASSES: Array<[AddressClass, BlockList]> = (() => {
  const byClass = new Map<AddressClass, BlockList>();
  for (const [cls, net, prefix, type] of RANGES) {
    if (!byClass.has(cls)) byClass.set(cls, new BlockList());
    byClass.get(cls)!.addSubnet(net, prefix, type);
  }
  return [...byClass.entries()];
})();

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is judged as the IPv4 address it carries. */
function normalise(address: string): { address: string; type: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return { address: mapped[1], type: 'ipv4' };
  return { address, type: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

/** The special-purpose class of an address, or null for a public unicast address. */
export function classifyAddress(address: string): AddressClass | null {
  const a = normalise(address);
  for (const [cls, list] of CLASSES) if (list.check(a.address, a.type)) return cls;
  return null;
}

export interface AllowlistEntry {
  text: string;
  /** null = any port. */
  port: number | null;
  list: BlockList;
}
export type AddressAllowlist = readonly AllowlistEntry[];

/**
 * `127.0.0.0/8`, `127.0.0.1:8443`, `::1`, `[::1]:9000`, `10.1.0.0/16:443`, comma-separated;
 * `none` (or empty) for no exceptions.
 */
export function parseAllowlist(text: string): AddressAllowlist {
  const entries: AllowlistEntry[] = [];
  for (const raw of text.split(',').map((s) => s.trim()).filter((s) => s && s !== 'none')) {
    let host = raw;
    let port: number | null = null;
    const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(raw);
    if (bracket) {
      host = bracket[1];
      port = bracket[2] ? Number(bracket[2]) : null;
    } else if (raw.split(':').length === 2) {
      [host] = raw.split(':');
      port = Number(raw.split(':')[1]);
    }
    if (port !== null && !(Number.isInteger(port) && port > 0 && port < 65536)) throw new Error(`"${raw}": invalid port`);
    const [addr, prefixText] = host.split('/');
    const family = isIP(addr);
    if (!family) throw new Error(`"${raw}": not an IP address or CIDR range`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    const prefix = prefixText === undefined ? (family === 6 ? 128 : 32) : Number(prefixText);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) throw new Error(`"${raw}": invalid prefix length`);
    const list = new BlockList();
    list.addSubnet(addr, prefix, type);
    entries.push({ text: raw, port, list });
  }
  return entries;
}

export function allowlisted(allowlist: AddressAllowlist, address: string, port: number): boolean {
  const a = normalise(address);
  return allowlist.some((e) => (e.port === null || e.port === port) && e.list.check(a.address, a.type));
}

export type AddressVerdict = { ok: true; address: string; family: 4 | 6 } | { ok: false; reason: string; code: string };

/**
 * Judges every address a host resolved to: all must be allowed (one bad
 * answer could be chosen on connect — DNS rebinding), and the first is the
 * one the request is pinned to.
 */
export function judgeAddresses(addresses: readonly string[], port: number, allowlist: AddressAllowlist): AddressVerdict {
  if (!addresses.length) return { ok: false, code: 'SSRF.UNRESOLVABLE', reason: 'the host does not resolve' };
  for (const address of addresses) {
    const cls = classifyAddress(address);
    if (cls && !allowlisted(allowlist, address, port)) {
      return { ok: false, code: `SSRF.${cls.toUpperCase().replace('-', '_')}`, reason: `the host resolves to a ${cls} address (${address}) that the allowlist does not name` };
    }
  }
  return { ok: true, address: addresses[0], family: isIP(addresses[0]) === 6 ? 6 : 4 };
}

export interface EndpointRules {
  httpsOnly: boolean;
}

/** Static checks on the URL itself (before any resolution). */
export function checkEndpointUrl(url: string, rules: EndpointRules): { ok: true; url: URL; port: number } | { ok: false; reason: string; code: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { ok: false, code: 'URL.INVALID', reason: 'url must be an absolute URL' };
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return { ok: false, code: 'URL.SCHEME', reason: 'url must be http or https' };
  if (rules.httpsOnly && u.protocol !== 'https:') return { ok: false, code: 'URL.HTTPS_REQUIRED', reason: 'url must be https (NOTIFIER_HTTPS_ONLY)' };
  if (u.username || u.password) return { ok: false, code: 'URL.CREDENTIALS', reason: 'url must not carry credentials; the signature authenticates' };
  const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  return { ok: true, url: u, port };
}
