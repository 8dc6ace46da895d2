import { Hl7ErrorCode, Hl7ParseError } from './hl7-parse.error';

/** How much of a date/time the sender gave. Any fraction of a second is `millisecond` (see `fractionDigits`). */
export type Hl7DateTimePrecision = 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second' | 'millisecond';

/** A DTM/TS value read without losing precision or the sender's offset. */
export interface Hl7DateTime {
  /**
   * UTC instant (`YYYY-MM-DDTHH:mm:ss[.f…]Z`) when the offset is known and
   * the precision is at least the hour; otherwise the local form (no zone).
   * Date-only precisions are never shifted: a birth date is not an instant.
   */
  readonly iso: string;
  readonly precision: Hl7DateTimePrecision;
  /** 1–4 digits of fraction given by the sender, 0 when none. */
  readonly fractionDigits: number;
  /** The source offset as written (`+hhmm`/`-hhmm`), or `null` when absent. */
  readonly offset: string | null;
  /** The sender's wall-clock reading in ISO form at the given precision, with `±hh:mm` when known. */
  readonly local: string;
  /** The instant as a Date (ms precision) when an offset is known or assumed and precision ≥ hour. */
  readonly date?: Date;
}

/** A DT value (`YYYY[MM[DD]]`). */
export interface Hl7Date {
  /** `YYYY`, `YYYY-MM` or `YYYY-MM-DD`. */
  readonly iso: string;
  readonly precision: 'year' | 'month' | 'day';
}

const DTM = /^(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,4}))?)?)?)?)?)?([+-]\d{4})?$/;
const DT = /^(\d{4})(?:(\d{2})(?:(\d{2}))?)?$/;
const PRECISIONS: Hl7DateTimePrecision[] = ['year', 'month', 'day', 'hour', 'minute', 'second', 'millisecond'];

function invalid(value: string, why: string): Hl7ParseError {
  return new Hl7ParseError('HL7.DATETIME.INVALID', `Invalid HL7 date/time ${JSON.stringify(value.slice(0, 40))}: ${why}`, Hl7ErrorCode.DataTypeError, undefined, { details: { value: value.slice(0, 40) } });
}

function daysIn(year: number, month: number): number {
  return [31, year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

const p2 = (n: number): string => String(n).padStart(2, '0');

function checkDate(value: string, y: number, mo?: number, d?: number): void {
  if (mo !== undefined && (mo < 1 || mo > 12)) throw invalid(value, `month ${mo}`);
  if (mo !== undefined && d !== undefined && (d < 1 || d > daysIn(y, mo))) throw invalid(value, `day ${d}`);
}

function parseOffset(value: string, off: string): number {
  const h = Number(off.slice(1, 3));
  const m = Number(off.slice(3, 5));
  if (h > 14 || m > 59) throw invalid(value, `offset ${off}`);
  return (off[0] === '-' ? -1 : 1) * (h * 60 + m);
}

/**
 * Reads an HL7 DTM / TS value `YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]`.
 * Keeps the sender's precision and offset; the UTC instant is only given when
 * the offset is known (or `opts.assumeOffset` supplies one), because guessing
 * the zone is how timestamps silently shift by hours.
 * @throws Hl7ParseError `HL7.DATETIME.INVALID` (0357 code 102)
 */
export function readHl7DateTime(value: string, opts: { assumeOffset?: string } = {}): Hl7DateTime {
  if (typeof value !== 'string') throw invalid(String(value), 'not a string');
  const m = DTM.exec(value.trim());
  if (!m) throw invalid(value, 'expected YYYY[MM[DD[HH[MM[SS[.S…]]]]]][±ZZZZ]');
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => (m[i] === undefined ? undefined : Number(m[i])));
  const fraction = m[7] ?? '';
  checkDate(value, y as number, mo, d);
  if (h !== undefined && h > 23) throw invalid(value, `hour ${h}`);
  if (mi !== undefined && mi > 59) throw invalid(value, `minute ${mi}`);
  if (s !== undefined && s > 59) throw invalid(value, `second ${s}`);
  const given = [y, mo, d, h, mi, s].filter((x) => x !== undefined).length;
  const precision = fraction ? 'millisecond' : PRECISIONS[given - 1];
  const offset = m[8] ?? null;
  let effective: string | null = offset;
  if (effective === null && opts.assumeOffset !== undefined) {
    if (!/^[+-]\d{4}$/.test(opts.assumeOffset)) throw invalid(opts.assumeOffset, 'assumeOffset must be ±hhmm');
    effective = opts.assumeOffset;
  }
  const offsetMinutes = effective === null ? undefined : parseOffset(value, effective);

  const datePart = [String(y).padStart(4, '0'), mo === undefined ? undefined : p2(mo), d === undefined ? undefined : p2(d)].filter((x) => x !== undefined).join('-');
  let local = datePart;
  if (h !== undefined) {
    local += 'T' + p2(h);
    if (mi !== undefined) local += ':' + p2(mi);
    if (s !== undefined) local += ':' + p2(s);
    if (fraction) local += '.' + fraction;
  }
  const zone = offset === null ? '' : `${offset.slice(0, 3)}:${offset.slice(3)}`;
  if (h === undefined || offsetMinutes === undefined) {
    return { iso: local, precision, fractionDigits: fraction.length, offset, local: local + (h === undefined ? '' : zone) };
  }
  const t = new Date(0);
  t.setUTCFullYear(y as number, (mo as number) - 1, d as number);
  t.setUTCHours(h, mi ?? 0, s ?? 0, fraction ? Number(fraction.padEnd(4, '0').slice(0, 3)) : 0);
  const instant = new Date(t.getTime() - offsetMinutes * 60_000);
  const iso =
    `${String(instant.getUTCFullYear()).padStart(4, '0')}-${p2(instant.getUTCMonth() + 1)}-${p2(instant.getUTCDate())}` +
    `T${p2(instant.getUTCHours())}:${p2(instant.getUTCMinutes())}:${p2(instant.getUTCSeconds())}${fraction ? '.' + fraction : ''}Z`;
  return { iso, precision, fractionDigits: fraction.length, offset, local: local + zone, date: instant };
}

/**
 * Reads an HL7 DT value `YYYY[MM[DD]]`.
 * @throws Hl7ParseError `HL7.DATETIME.INVALID` (0357 code 102)
 */
export function readHl7Date(value: string): Hl7Date {
  if (typeof value !== 'string') throw invalid(String(value), 'not a string');
  const m = DT.exec(value.trim());
  if (!m) throw invalid(value, 'expected YYYY[MM[DD]]');
  const y = Number(m[1]);
  const mo = m[2] === undefined ? undefined : Number(m[2]);
  const d = m[3] === undefined ? undefined : Number(m[3]);
  checkDate(value, y, mo, d);
  return { iso: [m[1], m[2], m[3]].filter((x) => x !== undefined).join('-'), precision: d !== undefined ? 'day' : mo !== undefined ? 'month' : 'year' };
}
