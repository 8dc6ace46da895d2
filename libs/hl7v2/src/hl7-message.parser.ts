import { resolveHl7Charset, UTF8_CHARSET, type Hl7Charset } from './hl7-charset.decoder';
import type { Hl7Delimiters } from './hl7-delimiters.model';
import { Hl7Message, Hl7Segment, type Hl7Context } from './hl7-message.model';
import { Hl7ErrorCode, Hl7ParseError } from './hl7-parse.error';

/** Options of {@link parseHl7Message}. */
export interface Hl7ParseOptions {
  /**
   * Charset assumed when MSH-18 is empty (table 0211 name). Default
   * `UNICODE UTF-8`: a superset of ASCII (the standard's default), and what
   * modern senders actually send without saying so.
   */
  defaultCharset?: string;
  /** Reject input larger than this many bytes (`HL7.PARSE.TOO_LARGE`, 0357 code 102). */
  maxBytes?: number;
}

const CR = 13;
const LF = 10;
/** Versions of MSH-12.1 we read: 2.1 … 2.8 with optional minor (2.3.1, 2.5.1, 2.8.2). */
const VERSION = /^2\.[1-8](?:\.\d{1,2})?$/;
const BATCH_SEGMENTS = new Set(['FHS', 'BHS', 'BTS', 'FTS']);

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isSegmentId(line: string): boolean {
  if (line.length < 3) return false;
  const a = line.charCodeAt(0);
  const b = line.charCodeAt(1);
  const c = line.charCodeAt(2);
  return a >= 65 && a <= 90 && ((b >= 65 && b <= 90) || (b >= 48 && b <= 57)) && ((c >= 65 && c <= 90) || (c >= 48 && c <= 57));
}

/**
 * Reads MSH-1 and MSH-2 from text starting with `MSH`. Exported for the batch
 * splitter, which reads FHS/BHS the same way.
 * @internal
 */
export function readDelimiters(text: string, segment = 'MSH'): Hl7Delimiters {
  const bad = (why: string): Hl7ParseError =>
    new Hl7ParseError('HL7.PARSE.BAD_ENCODING_CHARACTERS', `${segment}-1/${segment}-2 encoding characters are invalid: ${why}`, Hl7ErrorCode.DataTypeError, { segment, sequence: 1, field: 2 });
  if (text.length < 4) throw new Hl7ParseError('HL7.PARSE.TRUNCATED_MSH', `${segment} segment is truncated`, Hl7ErrorCode.RequiredFieldMissing, { segment, sequence: 1, field: 1 });
  const field = text[3];
  const fc = text.charCodeAt(3);
  if (fc === CR || fc === LF) throw new Hl7ParseError('HL7.PARSE.TRUNCATED_MSH', `${segment} segment is truncated`, Hl7ErrorCode.RequiredFieldMissing, { segment, sequence: 1, field: 1 });
  if (isAlnum(fc) || fc <= 32 || fc === 127) throw bad(`field separator ${JSON.stringify(field)} is not a printable delimiter`);
  let end = 4;
  while (end < text.length && end < 10) {
    const c = text.charCodeAt(end);
    if (text[end] === field || c === CR || c === LF) break;
    end++;
  }
  const enc = text.slice(4, end);
  if (enc.length < 4 || enc.length > 5) throw bad(`expected 4 or 5 characters, got ${JSON.stringify(enc)}`);
  const seen = new Set<string>([field]);
  for (let i = 0; i < enc.length; i++) {
    const c = enc.charCodeAt(i);
    if (isAlnum(c) || c <= 32 || c === 127) throw bad(`${JSON.stringify(enc[i])} is not a printable delimiter`);
    if (seen.has(enc[i])) throw bad(`${JSON.stringify(enc[i])} is used twice`);
    seen.add(enc[i]);
  }
  return { field, component: enc[0], repetition: enc[1], escape: enc[2], subcomponent: enc[3], ...(enc.length === 5 ? { truncation: enc[4] } : {}) };
}

/** Index of the first CR or LF at/after `from` in a byte buffer, or its length. */
function lineEndBytes(buf: Buffer, from: number): number {
  for (let i = from; i < buf.length; i++) if (buf[i] === CR || buf[i] === LF) return i;
  return buf.length;
}

/**
 * Decodes a byte message by its own MSH-18. MSH is ASCII in every charset we
 * accept, so it is read as latin1 first to find MSH-18, then the whole buffer
 * is decoded (strictly) with the declared charset.
 */
function decode(buf: Buffer, opts: Hl7ParseOptions): { text: string; charset: Hl7Charset } {
  let start = 0;
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) start = 3;
  while (start < buf.length && (buf[start] === CR || buf[start] === LF)) start++;
  const firstLine = buf.toString('latin1', start, lineEndBytes(buf, start));
  // Junk is reported as "no MSH" rather than as an encoding error: that is
  // the more useful answer for the sender.
  if (!firstLine.startsWith('MSH')) throw missingMsh(firstLine.slice(0, 3));
  const d = readDelimiters(firstLine);
  const msh18 = firstLine.split(d.field)[17];
  const declared = msh18 === undefined ? undefined : msh18.split(d.repetition)[0].split(d.component)[0];
  const charset = resolveHl7Charset(declared, opts.defaultCharset);
  const body = start === 0 ? buf : buf.subarray(start);
  return { text: charset.decode(body, true), charset };
}

function missingMsh(head: string): Hl7ParseError {
  const hint = BATCH_SEGMENTS.has(head) ? ' (this is a batch; use splitHl7Batch)' : '';
  return new Hl7ParseError('HL7.PARSE.MISSING_MSH', `Message does not start with an MSH segment${hint}`, Hl7ErrorCode.SegmentSequenceError, { segment: 'MSH', sequence: 1 });
}

function tooLarge(size: number, max: number): Hl7ParseError {
  return new Hl7ParseError('HL7.PARSE.TOO_LARGE', `Message of ${size} bytes exceeds the limit of ${max} bytes`, Hl7ErrorCode.DataTypeError, undefined, { details: { size, maxBytes: max } });
}

/**
 * Parses one HL7 v2 message.
 *
 * - Separators come from MSH-1/MSH-2 (4 characters, or 5 with the v2.7
 *   truncation character).
 * - Segments may end with CR, LF or CRLF; blank lines and trailing
 *   terminators are ignored; a leading UTF-8 BOM is skipped. Z-segments are
 *   kept like any other. Data containing a raw CR or LF must be escaped
 *   (`\X0D\`, `\.br\`) as the standard requires, since a bare LF is a
 *   terminator here.
 * - A Buffer is decoded per MSH-18 (default `opts.defaultCharset`, UTF-8);
 *   `message.raw` keeps the bytes exactly.
 * - MSH-9.1, MSH-10 and MSH-12 are required; MSH-12.1 must be 2.1–2.8.x.
 *
 * Throws only {@link Hl7ParseError}, whatever the input.
 */
export function parseHl7Message(input: Buffer | Uint8Array | string, opts: Hl7ParseOptions = {}): Hl7Message {
  try {
    return parse(input, opts);
  } catch (e) {
    if (e instanceof Hl7ParseError) throw e;
    // Safety net: a bug in this parser must still surface as a NAK-able
    // parse error, never as a TypeError that kills a connection handler.
    throw new Hl7ParseError('HL7.PARSE.INTERNAL', `Unexpected failure while parsing: ${(e as Error)?.message ?? String(e)}`, Hl7ErrorCode.ApplicationInternalError, undefined, { cause: e });
  }
}

function parse(input: Buffer | Uint8Array | string, opts: Hl7ParseOptions): Hl7Message {
  let text: string;
  let charset: Hl7Charset;
  let raw: Buffer | undefined;
  if (typeof input === 'string') {
    if (opts.maxBytes !== undefined && input.length * 3 > opts.maxBytes) {
      const size = Buffer.byteLength(input, 'utf8');
      if (size > opts.maxBytes) throw tooLarge(size, opts.maxBytes);
    }
    text = input;
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    charset = UTF8_CHARSET;
  } else if (input instanceof Uint8Array) {
    raw = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    if (opts.maxBytes !== undefined && raw.length > opts.maxBytes) throw tooLarge(raw.length, opts.maxBytes);
    ({ text, charset } = decode(raw, opts));
  } else {
    throw new Hl7ParseError('HL7.PARSE.INVALID_INPUT', 'Input must be a string or a Buffer', Hl7ErrorCode.ApplicationInternalError);
  }

  let pos = 0;
  while (pos < text.length && (text.charCodeAt(pos) === CR || text.charCodeAt(pos) === LF)) pos++;
  if (!text.startsWith('MSH', pos)) {
    throw missingMsh(text.slice(pos, pos + 3));
  }
  const delimiters = readDelimiters(pos === 0 ? text : text.slice(pos, pos + 16));
  if (typeof input === 'string') {
    // Text was decoded by the caller; MSH-18 only needs to be a value we know.
    const firstEnd = lineEnd(text, pos);
    const msh18 = text.slice(pos, firstEnd).split(delimiters.field)[17];
    if (msh18) resolveHl7Charset(msh18.split(delimiters.repetition)[0].split(delimiters.component)[0]);
  }
  const ctx: Hl7Context = { delimiters, charset };
  const fieldSep = delimiters.field;
  const segments: Hl7Segment[] = [];
  const counts = new Map<string, number>();

  // One pass with two moving indexOf cursors (CR and LF) instead of a regex
  // split: this loop is the hot path of the MLLP ingest.
  let nextCr = text.indexOf('\r', pos);
  let nextLf = text.indexOf('\n', pos);
  while (pos < text.length) {
    if (nextCr !== -1 && nextCr < pos) nextCr = text.indexOf('\r', pos);
    if (nextLf !== -1 && nextLf < pos) nextLf = text.indexOf('\n', pos);
    const end = nextCr === -1 ? (nextLf === -1 ? text.length : nextLf) : nextLf === -1 ? nextCr : Math.min(nextCr, nextLf);
    if (end > pos) {
      const line = text.slice(pos, end);
      addSegment(line, segments, counts, ctx, fieldSep);
    }
    pos = end + 1;
  }
  return validate(new Hl7Message({ text, raw, ctx, segments }));
}

function lineEnd(text: string, from: number): number {
  const cr = text.indexOf('\r', from);
  const lf = text.indexOf('\n', from);
  if (cr === -1) return lf === -1 ? text.length : lf;
  return lf === -1 ? cr : Math.min(cr, lf);
}

function addSegment(line: string, segments: Hl7Segment[], counts: Map<string, number>, ctx: Hl7Context, fieldSep: string): void {
  const sequence = segments.length + 1;
  if (!isSegmentId(line) || (line.length > 3 && line[3] !== fieldSep)) {
    if (line.trim() === '') return; // whitespace-only line between segments
    throw new Hl7ParseError('HL7.PARSE.BAD_SEGMENT', `Line ${sequence} does not start with a segment id followed by the field separator`, Hl7ErrorCode.SegmentSequenceError, { segment: line.slice(0, 3).replace(/[^\x20-\x7e]/g, '?'), sequence }, { details: { line: sequence } });
  }
  const id = line.slice(0, 3);
  if (sequence > 1 && (id === 'MSH' || BATCH_SEGMENTS.has(id))) {
    throw new Hl7ParseError('HL7.PARSE.UNEXPECTED_SEGMENT', `Unexpected ${id} segment at position ${sequence}: one message expected (use splitHl7Batch for batches)`, Hl7ErrorCode.SegmentSequenceError, { segment: id, sequence: (counts.get(id) ?? 0) + 1 });
  }
  const occurrence = (counts.get(id) ?? 0) + 1;
  counts.set(id, occurrence);
  segments.push(new Hl7Segment(id, line, ctx, segments.length, occurrence));
}

function validate(msg: Hl7Message): Hl7Message {
  const msh = msg.segment('MSH') as Hl7Segment;
  const missing = (field: number, component: number | undefined, name: string): Hl7ParseError =>
    new Hl7ParseError(
      field === 9 ? 'HL7.PARSE.MISSING_MESSAGE_TYPE' : field === 10 ? 'HL7.PARSE.MISSING_CONTROL_ID' : 'HL7.PARSE.MISSING_VERSION',
      `Required field MSH-${field}${component ? '.' + component : ''} (${name}) is missing`,
      Hl7ErrorCode.RequiredFieldMissing,
      { segment: 'MSH', sequence: 1, field, ...(component ? { component } : {}) },
    );
  if (!msh.value(9, 1, 1)) throw missing(9, 1, 'message type');
  if (!msh.value(10)) throw missing(10, undefined, 'message control id');
  const version = msh.value(12, 1, 1);
  if (!version) throw missing(12, 1, 'version id');
  if (!VERSION.test(version)) {
    throw new Hl7ParseError('HL7.PARSE.UNSUPPORTED_VERSION', `Unsupported HL7 version "${version}" in MSH-12 (2.1–2.8 are supported)`, Hl7ErrorCode.UnsupportedVersionId, { segment: 'MSH', sequence: 1, field: 12, component: 1 });
  }
  return msg;
}
