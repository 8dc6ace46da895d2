import { createHmac } from 'node:crypto';

/**
 * Kafka keys must keep one patient's events together without carrying PHI:
 * the source patient key is an HMAC of `authority|identifier` under a secret
 * from configuration, so it cannot be reversed or guessed from an MRN.
 */
export function sourcePatientKey(secret: string, authority: string, identifier: string): string {
  return createHmac('sha256', secret).update(`${authority.trim().toUpperCase()}|${identifier.trim()}`).digest('hex').slice(0, 32);
}
