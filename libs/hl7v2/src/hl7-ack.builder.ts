import { formatHl7DateTime } from './hl7-datetime.writer';
import { DEFAULT_HL7_DELIMITERS, type Hl7Delimiters } from './hl7-delimiters.model';
import { Hl7MessageBuilder, type Hl7FieldInput, type Hl7HdInput } from './hl7-message.builder';
import { Hl7Message, type Hl7Header } from './hl7-message.model';
import { HL7_ERROR_CODE_TEXT, Hl7ParseError, type Hl7ErrorCode, type Hl7ErrorLocation } from './hl7-parse.error';

/** MSA-1 (table 0008): A* application acks, C* enhanced-mode accept (commit) acks. */
export type Hl7AckCode = 'AA' | 'AE' | 'AR' | 'CA' | 'CE' | 'CR';

/** One error reported in an ERR segment. */
export interface Hl7AckError {
  /** Table 0357 code (100…207). */
  code: Hl7ErrorCode | number;
  location?: Hl7ErrorLocation;
  /** ERR-4 (table 0516): Error, Warning, Information. */
  severity: 'E' | 'W' | 'I';
  /** Human-readable detail; goes to ERR-8 (v2.5+) or the CE text (older). */
  text?: string;
}

/** What an ACK needs of the original when it could not be parsed fully (e.g. salvaged with `peekHl7Header`). */
export interface Hl7AckOriginal {
  sendingApplication?: Hl7HdInput;
  sendingFacility?: Hl7HdInput;
  receivingApplication?: Hl7HdInput;
  receivingFacility?: Hl7HdInput;
  triggerEvent?: string;
  /** MSH-10 of the original, echoed in MSA-2. */
  controlId?: string;
  processingId?: string;
  version?: string;
  charset?: string;
  delimiters?: Hl7Delimiters;
}

/** Options of {@link buildAck}. */
export interface Hl7AckOptions {
  code: Hl7AckCode;
  /** MSA-3 (deprecated from v2.5 on but still read by many senders). */
  textMessage?: string;
  errors?: readonly Hl7AckError[];
  /** MSH-10 of the ACK itself (a new id, not the original's). */
  controlId: string;
  /** The receiver's identity; defaults to the original's MSH-5/MSH-6. */
  sendingApplication?: Hl7HdInput;
  sendingFacility?: Hl7HdInput;
  /** MSH-7; default now (UTC, `+0000`). */
  dateTime?: Date | string;
}

const VERSION = /^2\.[1-8](?:\.\d{1,2})?$/;

function versionAtLeast(version: string, min: number[]): boolean {
  const v = version.split('.').map(Number);
  for (let i = 0; i < min.length; i++) {
    const a = v[i] ?? 0;
    if (a !== min[i]) return a > min[i];
  }
  return true;
}

function locationComponents(l: Hl7ErrorLocation | undefined): Array<string | undefined> {
  if (!l) return [];
  const s = (n: number | undefined): string | undefined => (n === undefined ? undefined : String(n));
  return [l.segment, s(l.sequence ?? 1), s(l.field), s(l.repetition), s(l.component), s(l.subcomponent)];
}

/**
 * Builds an acknowledgement for `original`.
 *
 * - MSH: same delimiters, version (MSH-12), processing id and charset as the
 *   original; sender and receiver swapped (MSH-3/4 = the receiver, i.e.
 *   `opts.sendingApplication/Facility` or the original MSH-5/6; MSH-5/6 =
 *   original MSH-3/4, copied verbatim with all HD components); MSH-9
 *   `ACK^<trigger>^ACK` (v2.3.1+), `ACK^<trigger>` (v2.2–2.3), `ACK` (v2.1);
 *   MSH-10 the new `opts.controlId`.
 * - MSA: code, original control id, text message; for v < 2.5 also MSA-6
 *   (first error as `code^text^HL70357`).
 * - ERR per error: v2.5+ `ERR||seg^seq^field^rep^comp^sub|code^text^HL70357|severity||||detail`,
 *   older versions `ERR|seg^seq^field^code&text&HL70357` (ELD).
 */
export function buildAck(original: Hl7Message | Hl7AckOriginal, opts: Hl7AckOptions): Hl7Message {
  const parsed = original instanceof Hl7Message ? original : undefined;
  const o: Hl7AckOriginal = parsed ? {} : (original as Hl7AckOriginal);
  const d = parsed ? parsed.delimiters : o.delimiters ?? DEFAULT_HL7_DELIMITERS;
  const b = new Hl7MessageBuilder({ delimiters: d });
  const msh = parsed?.segment('MSH');
  const h: Partial<Hl7Header> = parsed ? parsed.header : { triggerEvent: o.triggerEvent, controlId: o.controlId, version: o.version };
  const rawOr = (n: number, fallback: Hl7FieldInput): string => (msh ? msh.fieldRaw(n) ?? '' : b.encodeField(fallback));
  const hd = (v: Hl7HdInput | undefined): Hl7FieldInput => (v === undefined || typeof v === 'string' ? v : [v.namespaceId, v.universalId, v.universalIdType]);

  const version = h.version && VERSION.test(h.version) ? h.version : '2.5.1';
  const modern = versionAtLeast(version, [2, 5]);
  const trigger = h.triggerEvent;
  const type: Hl7FieldInput = !versionAtLeast(version, [2, 2]) ? 'ACK' : versionAtLeast(version, [2, 3, 1]) ? ['ACK', trigger, 'ACK'] : ['ACK', trigger];
  const dt = opts.dateTime ?? new Date();

  const fields: string[] = [];
  fields[3] = opts.sendingApplication !== undefined ? b.encodeField(hd(opts.sendingApplication)) : rawOr(5, hd(o.receivingApplication));
  fields[4] = opts.sendingFacility !== undefined ? b.encodeField(hd(opts.sendingFacility)) : rawOr(6, hd(o.receivingFacility));
  fields[5] = rawOr(3, hd(o.sendingApplication));
  fields[6] = rawOr(4, hd(o.sendingFacility));
  fields[7] = b.encodeField(typeof dt === 'string' ? dt : formatHl7DateTime(dt));
  fields[8] = '';
  fields[9] = b.encodeField(type);
  fields[10] = b.encodeField(opts.controlId);
  fields[11] = rawOr(11, o.processingId ?? 'P') || 'P';
  fields[12] = msh && h.version === version ? msh.fieldRaw(12) ?? version : b.encodeField(version);
  fields[18] = rawOr(18, o.charset);
  b.segmentRaw('MSH', fields.slice(3).map((f) => f ?? ''));

  const errors = opts.errors ?? [];
  const first = errors[0];
  const ce = (e: Hl7AckError): Hl7FieldInput => [String(e.code), e.text ?? HL7_ERROR_CODE_TEXT[e.code as Hl7ErrorCode] ?? '', 'HL70357'];
  b.segment('MSA', [opts.code, h.controlId ?? '', opts.textMessage, undefined, undefined, !modern && first ? ce(first) : undefined]);
  for (const e of errors) {
    if (modern) {
      const text = HL7_ERROR_CODE_TEXT[e.code as Hl7ErrorCode] ?? e.text ?? '';
      b.segment('ERR', [undefined, locationComponents(e.location), [String(e.code), text, 'HL70357'], e.severity, undefined, undefined, undefined, e.text]);
    } else {
      const l = e.location;
      const codeText = e.text ?? HL7_ERROR_CODE_TEXT[e.code as Hl7ErrorCode] ?? '';
      b.segment('ERR', [[l?.segment, l ? String(l.sequence ?? 1) : undefined, l?.field === undefined ? undefined : String(l.field), [String(e.code), codeText, 'HL70357']]]);
    }
  }
  return b.build();
}

/** The ERR entry for a parse failure (code, location, severity E, message). */
export function ackErrorFromParseError(error: Hl7ParseError): Hl7AckError {
  return { code: error.hl7ErrorCode, location: error.location, severity: 'E', text: error.message };
}

/** MSH-15/16 values (table 0155). */
export type Hl7AckCondition = 'AL' | 'NE' | 'ER' | 'SU';

/** What acknowledgements the sender asked for. */
export interface Hl7AckRequirements {
  /** `original` when MSH-15 and MSH-16 are both empty, else `enhanced`. */
  mode: 'original' | 'enhanced';
  /** Enhanced mode: when to send an accept (commit) ACK (CA/CE/CR). Original mode: `NE`. */
  acceptAck: Hl7AckCondition;
  /** When to send an application ACK (AA/AE/AR). Original mode: `AL`. */
  applicationAck: Hl7AckCondition;
}

function condition(v: string | undefined): Hl7AckCondition {
  const u = (v ?? '').trim().toUpperCase();
  // An empty or unknown value in enhanced mode is read as AL: an ACK the
  // sender ignores is harmless, a missing one stalls its queue.
  return u === 'NE' || u === 'ER' || u === 'SU' ? u : 'AL';
}

/**
 * Reads MSH-15 (accept ack type) and MSH-16 (application ack type).
 * Original mode (both empty): one application ACK (AA/AE/AR) always.
 * Enhanced mode: accept ACK (CA/CE/CR) and application ACK each per their
 * condition; see {@link isAckWanted}.
 */
export function ackRequirements(header: Pick<Hl7Header, 'acceptAckType' | 'applicationAckType'>): Hl7AckRequirements {
  // Whitespace-only counts as empty: senders pad MSH with spaces (e.g. `|2.3||| `) and mean original mode.
  if (!header.acceptAckType?.trim() && !header.applicationAckType?.trim()) return { mode: 'original', acceptAck: 'NE', applicationAck: 'AL' };
  return { mode: 'enhanced', acceptAck: condition(header.acceptAckType), applicationAck: condition(header.applicationAckType) };
}

/** Whether an ACK with this condition is due for a success (`true`) or failure (`false`). */
export function isAckWanted(condition: Hl7AckCondition, success: boolean): boolean {
  return condition === 'AL' || (condition === 'ER' && !success) || (condition === 'SU' && success);
}

/**
 * The MSA-1 code for an outcome: accept ACKs in enhanced mode use CA/CE/CR,
 * everything else AA/AE/AR. `error` = the message was understood but failed
 * (AE/CE); `reject` = refused outright (AR/CR: bad version, type, too large…).
 */
export function ackCodeFor(kind: 'accept' | 'application', outcome: 'accept' | 'error' | 'reject', mode: 'original' | 'enhanced' = 'original'): Hl7AckCode {
  const prefix = kind === 'accept' && mode === 'enhanced' ? 'C' : 'A';
  return `${prefix}${outcome === 'accept' ? 'A' : outcome === 'error' ? 'E' : 'R'}` as Hl7AckCode;
}
