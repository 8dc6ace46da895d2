import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks 1.0.0 signatures: `webhook-signature` is a space-separated
 * list of `v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">`.
 * Secrets are `whsec_<base64>` (the key is the decoded bytes); a secret given
 * without the prefix is a raw key (its UTF-8 bytes — `format: 'raw'` in the
 * reference libraries).
 */
export const SECRET_PREFIX = 'whsec_';

export function generateSecret(random: (n: number) => Buffer = randomBytes): string {
  return `${SECRET_PREFIX}${random(32).toString('base64')}`;
}

export function secretKey(secret: string): Buffer {
  return secret.startsWith(SECRET_PREFIX) ? Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64') : Buffer.from(secret, 'utf8');
}

/** Problems with a secret a subscriber supplies (none → acceptable). */
export function secretProblems(secret: string): string[] {
  if (secret.startsWith(SECRET_PREFIX)) {
    const b64 = secret.slice(SECRET_PREFIX.length);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return ['secret: whsec_ must be followed by base64'];
    const n = Buffer.from(b64, 'base64').length;
    if (n < 24 || n > 64) return [`secret: the key must be 24 to 64 bytes (got ${n})`];
    return [];
  }
  return secret.length >= 16 ? [] : ['secret must be whsec_<base64> or a raw key of at least 16 characters'];
}

export function signatureV1(secret: string, id: string, timestampSeconds: number, body: string): string {
  return `v1,${createHmac('sha256', secretKey(secret)).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/** The header value: one signature per active secret (old and new during a rotation's grace period). */
export function signatureHeader(secrets: readonly string[], id: string, timestampSeconds: number, body: string): string {
  return secrets.map((s) => signatureV1(s, id, timestampSeconds, body)).join(' ');
}

/** Verification (used by the send-test-event self-check and unit tests; subscribers use any Standard Webhooks library). */
export function verifySignature(secret: string, header: string, id: string, timestampSeconds: number, body: string): boolean {
  const expected = Buffer.from(signatureV1(secret, id, timestampSeconds, body));
  return header.split(' ').some((sig) => {
    const given = Buffer.from(sig);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
