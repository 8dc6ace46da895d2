import { hash } from 'node:crypto';

/** Flag on a stored message whose sender had already used its control id for different content. */
export const CONTROL_ID_REUSE = 'control-id-reuse';

const CR = 0x0d;
const LF = 0x0a;

/**
 * The bytes whose identity makes a duplicate: the message exactly as sent,
 * with line endings normalised (CRLF and LF → CR, the HL7 segment
 * terminator), so a resend that went through a system converting line
 * endings is still the same message. Everything else counts, MSH-7 (the
 * message time) included: a message the sender rebuilt with a new time is
 * new content under a reused control id, kept and published, not dropped.
 */
export function normalisedContent(bytes: Buffer): Buffer {
  if (bytes.indexOf(LF) < 0) return bytes;
  const out = Buffer.allocUnsafe(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === LF) {
      if (n > 0 && out[n - 1] === CR && bytes[i - 1] === CR) continue; // CRLF: the CR is already written
      out[n++] = CR;
    } else {
      out[n++] = b;
    }
  }
  return out.subarray(0, n);
}

/** SHA-256 (hex) of {@link normalisedContent}: the content part of the duplicate key (sender, control id, content). */
export function contentHash(bytes: Buffer): string {
  return hash('sha256', normalisedContent(bytes), 'hex');
}
