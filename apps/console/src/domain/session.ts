import { randomBytes, timingSafeEqual } from 'node:crypto';

export type Role = 'admin' | 'operator';

export interface Session {
  id: string;
  csrf: string;
  subject: string;
  scopes: string[];
  role: Role;
  /** The user's own bearer token: kept server-side, never sent to the browser. */
  token: string;
  tokenExpiresAt: number | null;
  lastSeen: number;
}

/** admin:operate makes an admin (redrive, replay); anyone else signed in is a read-only operator. */
export function roleOf(scopes: Iterable<string>): Role {
  return [...scopes].includes('admin:operate') ? 'admin' : 'operator';
}

/**
 * Server-side sessions (in this console process's memory): an opaque id in
 * an HttpOnly cookie, a CSRF token the page sends back in a header on every
 * state-changing call, expiry after `idleMs` without a request (and never
 * past the bearer token's own expiry).
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly idleMs: number, private readonly now: () => number = Date.now) {}

  create(input: { subject: string; scopes: string[]; token: string; tokenExpiresAt: number | null }): Session {
    this.sweep();
    const session: Session = {
      id: randomBytes(32).toString('base64url'), csrf: randomBytes(32).toString('base64url'),
      subject: input.subject, scopes: input.scopes, role: roleOf(input.scopes), token: input.token, tokenExpiresAt: input.tokenExpiresAt,
      lastSeen: this.now(),
    };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session for a cookie value (touching it), or undefined when unknown, idle too long or its token expired. */
  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    const now = this.now();
    if (now - s.lastSeen > this.idleMs || (s.tokenExpiresAt !== null && now >= s.tokenExpiresAt)) {
      this.sessions.delete(id);
      return undefined;
    }
    s.lastSeen = now;
    return s;
  }

  destroy(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, s] of this.sessions) if (now - s.lastSeen > this.idleMs) this.sessions.delete(id);
  }
}

/** Constant-time comparison of the CSRF header with the session's token. */
export function csrfMatches(session: Session, header: string | undefined): boolean {
  if (!header) return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(header);
  return a.length === b.length && timingSafeEqual(a, b);
}
