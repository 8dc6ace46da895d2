import { createHash, timingSafeEqual } from 'node:crypto';

/** Credentials the registry accepts (from configuration only). */
export interface BasicAuthCredentials {
  readonly username: string;
  readonly password: string;
}

/**
 * Checks an `Authorization: Basic ...` header against configured credentials.
 * Both sides are hashed to a fixed length before `timingSafeEqual`, so the
 * comparison time reveals neither the secret nor its length, and the
 * username and password are always both compared (no early exit telling an
 * attacker which half was right).
 */
export class BasicAuthGuard {
  private readonly expectedUser: Buffer;
  private readonly expectedPassword: Buffer;

  constructor(credentials: BasicAuthCredentials) {
    this.expectedUser = digest(credentials.username);
    this.expectedPassword = digest(credentials.password);
  }

  /** True when the header carries the configured credentials. */
  accepts(authorization: string | undefined): boolean {
    const match = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(authorization ?? '');
    const decoded = match ? Buffer.from(match[1], 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    const user = colon >= 0 ? decoded.slice(0, colon) : '';
    const password = colon >= 0 ? decoded.slice(colon + 1) : '';
    const userOk = timingSafeEqual(digest(user), this.expectedUser);
    const passwordOk = timingSafeEqual(digest(password), this.expectedPassword);
    return match !== null && colon >= 0 && userOk && passwordOk;
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Parses `user:password` (as in SCHEMA_REGISTRY_BASIC_AUTH); the password may contain colons. */
export function parseBasicAuthSetting(value: string): BasicAuthCredentials {
  const colon = value.indexOf(':');
  if (colon <= 0 || colon === value.length - 1) throw new RangeError('basic auth setting must look like "user:password"');
  return { username: value.slice(0, colon), password: value.slice(colon + 1) };
}
