import { hash, randomBytes } from 'node:crypto';

/**
 * Output event ids are derived from input ids so retries and replays produce
 * the same ids and downstream dedupe holds (DESIGN.md "Delivery guarantees").
 * Formatted as an RFC 4122 version-5-style UUID over SHA-256.
 */
export function deriveEventId(inputEventId: string, purpose: string): string {
  // One-shot crypto.hash (every output event and its trace span take one): a third of createHash's cost.
  const h = hash('sha256', `${inputEventId}\u0000${purpose}`, 'buffer');
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  return formatUuid(h);
}

export function newEventId(): string {
  const b = randomBytes(16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  return formatUuid(b);
}

function formatUuid(b: Buffer): string {
  const hex = b.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** W3C trace context: keep the trace id, start a new span for this hop. */
export function childTraceparent(parent: string | undefined, seed: string): string {
  const span = hash('sha256', seed, 'hex').slice(0, 16);
  const m = parent ? /^00-([0-9a-f]{32})-[0-9a-f]{16}-([0-9a-f]{2})$/.exec(parent) : null;
  const traceId = m ? m[1] : hash('sha256', `trace:${seed}`, 'hex').slice(0, 32);
  return `00-${traceId}-${span}-${m ? m[2] : '01'}`;
}
