import { UTF8_CHARSET, type Hl7Charset } from './hl7-charset.decoder';
import type { Hl7Delimiters } from './hl7-delimiters.model';

const HEX = /^(?:[0-9A-Fa-f]{2})+$/;
const MAX_SPACES = 100;

/**
 * Walks `raw` (one leaf value as written) and hands literal runs and escape
 * sequences to the callbacks. An escape character with no closing partner is
 * literal text: senders that forget to escape a backslash should not lose data.
 */
function tokenise(raw: string, esc: string, literal: (text: string) => void, sequence: (body: string) => void): void {
  let pos = 0;
  for (;;) {
    const start = raw.indexOf(esc, pos);
    if (start < 0) break;
    const end = raw.indexOf(esc, start + 1);
    if (end < 0) break;
    if (start > pos) literal(raw.slice(pos, start));
    if (end === start + 1) {
      // `\\` is not a sequence; keep the first escape character literally and
      // let the second one open the next sequence.
      literal(esc);
      pos = start + 1;
      continue;
    }
    sequence(raw.slice(start + 1, end));
    pos = end + 1;
  }
  if (pos < raw.length) literal(raw.slice(pos));
}

function delimiterFor(body: string, d: Hl7Delimiters): string | undefined {
  if (body.length !== 1) return undefined;
  switch (body) {
    case 'F': return d.field;
    case 'S': return d.component;
    case 'T': return d.subcomponent;
    case 'R': return d.repetition;
    case 'E': return d.escape;
    case 'P': return d.truncation;
    default: return undefined;
  }
}

/**
 * Turns the escaped text of one leaf (subcomponent, or a component/field with
 * no deeper structure) into its value.
 *
 * - `\F\ \S\ \T\ \R\ \E\` (and `\P\` when MSH-2 declares a truncation
 *   character) become the delimiter they stand for.
 * - `\Xhh…\` becomes the bytes `hh…` decoded in the message's character set
 *   (so `\XC3A9\` is `é` in a UTF-8 message, `\XE9\` in a latin1 one);
 *   malformed hex or bytes invalid in that charset stay as written.
 * - `\.br\` becomes `\n`; `\.sp n\` becomes n newlines (at least one).
 * - `\H\`, `\N\` (highlighting) and the other formatting commands
 *   (`\.fi\ \.nf\ \.in\ \.ti\ \.sk\ \.ce\`) are dropped: they carry layout,
 *   not content.
 * - `\Zxx\` (locally defined), `\Cxxxx\` and `\Mxxxxxx\` (ISO 2022 charset
 *   switching, which we do not implement) and anything unknown stay verbatim,
 *   escape characters included, so no information is silently lost.
 */
export function unescapeHl7(raw: string, d: Hl7Delimiters, charset: Hl7Charset = UTF8_CHARSET): string {
  if (raw.indexOf(d.escape) < 0) return raw;
  let out = '';
  tokenise(raw, d.escape, (t) => (out += t), (body) => {
    const delim = delimiterFor(body, d);
    if (delim !== undefined) { out += delim; return; }
    const c = body.charCodeAt(0);
    if (c === 0x58 /* X */ && HEX.test(body.slice(1))) {
      const decoded = decodeHex(body.slice(1), charset);
      out += decoded ?? d.escape + body + d.escape;
      return;
    }
    if (body === '.br') { out += '\n'; return; }
    if (body.startsWith('.sp')) {
      const n = Number.parseInt(body.slice(3).trim() || '1', 10);
      out += '\n'.repeat(Number.isFinite(n) ? Math.min(Math.max(n, 1), MAX_SPACES) : 1);
      return;
    }
    if (body === 'H' || body === 'N' || /^\.(fi|nf|in|ti|sk|ce)/.test(body)) return;
    out += d.escape + body + d.escape;
  });
  return out;
}

function decodeHex(hex: string, charset: Hl7Charset): string | undefined {
  try {
    return charset.decode(Buffer.from(hex, 'hex'), true);
  } catch {
    return undefined;
  }
}

/**
 * Escapes a value for use as one leaf: every delimiter and the escape
 * character get their `\x\` sequence, CR and LF become `\X0D\` / `\X0A\`
 * (exact round trip, unlike the layout command `\.br\`).
 */
export function escapeHl7(value: string, d: Hl7Delimiters): string {
  let needs = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === d.escape || ch === d.field || ch === d.component || ch === d.subcomponent || ch === d.repetition || ch === d.truncation || ch === '\r' || ch === '\n') {
      needs = true;
      break;
    }
  }
  if (!needs) return value;
  const e = d.escape;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === e) out += e + 'E' + e;
    else if (ch === d.field) out += e + 'F' + e;
    else if (ch === d.component) out += e + 'S' + e;
    else if (ch === d.subcomponent) out += e + 'T' + e;
    else if (ch === d.repetition) out += e + 'R' + e;
    else if (d.truncation !== undefined && ch === d.truncation) out += e + 'P' + e;
    else if (ch === '\r') out += e + 'X0D' + e;
    else if (ch === '\n') out += e + 'X0A' + e;
    else out += ch;
  }
  return out;
}

/**
 * Rewrites one escaped leaf from one set of delimiters to another without
 * losing formatting or local escape sequences (used when serialising with
 * different delimiters than the message was read with).
 */
export function transcodeHl7(raw: string, from: Hl7Delimiters, to: Hl7Delimiters): string {
  let out = '';
  tokenise(raw, from.escape, (t) => (out += escapeHl7(t, to)), (body) => {
    const delim = delimiterFor(body, from);
    out += delim !== undefined ? escapeHl7(delim, to) : to.escape + body + to.escape;
  });
  return out;
}
