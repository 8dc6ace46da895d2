import { readHl7DateTime } from '@clinmesh/hl7v2';
import type { ClinicalTime, TimePrecision } from '@clinmesh/schemas';

const PRECISION: Record<string, TimePrecision> = {
  year: 'YEAR', month: 'MONTH', day: 'DAY', hour: 'HOUR', minute: 'MINUTE', second: 'SECOND', millisecond: 'MILLISECOND',
};

/**
 * The UTC offset (`±HH:MM`) of an IANA time zone at a given local wall-clock
 * reading. Uses the platform's tz database (Intl), so DST is honoured; a
 * local time in a DST gap/overlap resolves to the offset valid just before.
 */
export function zoneOffsetAt(timeZone: string, localUtcMs: number): string {
  // Two passes: the offset at the guessed instant, then at the corrected one (DST edges).
  const first = zoneOffsetMinutesAt(timeZone, localUtcMs);
  const second = zoneOffsetMinutesAt(timeZone, localUtcMs - first * 60000);
  return formatOffset(second);
}

/*
 * Pure functions' memos (no state that changes a result). Building an Intl.DateTimeFormat was most of
 * the cost of a time without an offset (two per value, ~10 % of normalization's mapping): one per zone
 * is kept. Offsets are remembered per zone and 15-minute slot of UTC — zones change offset at such
 * instants (whole or half hours, quarter-hour offsets) — and only for a slot whose offset is the same at
 * its first and last millisecond, so a slot holding a historical transition (local mean time) is never
 * remembered. Bounded: cleared when full.
 */
const ZONE_FORMATTERS = new Map<string, Intl.DateTimeFormat>();
const OFFSET_SLOTS = new Map<string, number>();
const SLOT_MS = 15 * 60_000;
const MAX_SLOTS = 50_000;

/** The UTC offset in minutes of an IANA time zone at an instant (memoised per zone and 15-minute slot, above). */
export function zoneOffsetMinutesAt(timeZone: string, utcMs: number): number {
  const slot = Math.floor(utcMs / SLOT_MS);
  const key = `${timeZone}|${slot}`;
  const known = OFFSET_SLOTS.get(key);
  if (known !== undefined) return known;
  const first = readOffsetMinutes(timeZone, slot * SLOT_MS);
  if (first !== readOffsetMinutes(timeZone, (slot + 1) * SLOT_MS - 1)) return readOffsetMinutes(timeZone, utcMs);
  if (OFFSET_SLOTS.size >= MAX_SLOTS) OFFSET_SLOTS.clear();
  OFFSET_SLOTS.set(key, first);
  return first;
}

function readOffsetMinutes(timeZone: string, utcMs: number): number {
  let format = ZONE_FORMATTERS.get(timeZone);
  if (!format) ZONE_FORMATTERS.set(timeZone, (format = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })));
  const part = format.formatToParts(new Date(utcMs)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):?(\d{2})?/.exec(part);
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0)) : 0;
}

export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

function offsetToMinutes(offset: string): number {
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(offset);
  if (!m) return 0;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

/** Why a time could not be read (reported as a mapping issue, never thrown). */
export class UnreadableTimeError extends Error {
  constructor(readonly original: string) {
    super('unreadable date/time');
  }
}

/**
 * HL7 DTM/TS (or DT) → ClinicalTime. An offset in the value wins; without
 * one, the sender's configured time zone gives it (offsetSource
 * SENDER_TIME_ZONE); date-only values keep their calendar date and no
 * instant (a birth date is not an instant).
 */
export function hl7Time(value: string | undefined, senderTimeZone: string | null): ClinicalTime | null {
  if (!value) return null;
  const trimmed = value.trim();
  let read;
  try {
    read = readHl7DateTime(trimmed);
  } catch {
    throw new UnreadableTimeError(trimmed);
  }
  const precision = PRECISION[read.precision];
  if (precision === 'YEAR' || precision === 'MONTH' || precision === 'DAY') {
    return { instant: null, original: value, offset: read.offset ? formatOffset(offsetToMinutes(read.offset)) : null, precision, offsetSource: 'NONE', date: read.iso };
  }
  if (read.offset) {
    return { instant: read.date!.getTime(), original: value, offset: formatOffset(offsetToMinutes(read.offset)), precision, offsetSource: 'SOURCE', date: null };
  }
  return fromLocal(read.local, value, precision, senderTimeZone);
}

function fromLocal(local: string, original: string, precision: TimePrecision, senderTimeZone: string | null): ClinicalTime {
  if (!senderTimeZone) return { instant: null, original, offset: null, precision, offsetSource: 'NONE', date: local.slice(0, 10) };
  const asUtc = Date.parse(`${local.length === 13 ? `${local}:00` : local}Z`);
  const offset = zoneOffsetAt(senderTimeZone, asUtc);
  return { instant: asUtc - offsetToMinutes(offset) * 60000, original, offset, precision, offsetSource: 'SENDER_TIME_ZONE', date: null };
}

const FHIR_DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;
const FHIR_DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/;

/** FHIR date / dateTime / instant → ClinicalTime (same offset rules as {@link hl7Time}). */
export function fhirTime(value: unknown, senderTimeZone: string | null): ClinicalTime | null {
  if (typeof value !== 'string' || !value) return null;
  const d = FHIR_DATE.exec(value);
  if (d) {
    const precision: TimePrecision = d[3] ? 'DAY' : d[2] ? 'MONTH' : 'YEAR';
    return { instant: null, original: value, offset: null, precision, offsetSource: 'NONE', date: value };
  }
  const m = FHIR_DATETIME.exec(value);
  if (!m) throw new UnreadableTimeError(value);
  const precision: TimePrecision = m[7] ? 'MILLISECOND' : m[6] ? 'SECOND' : 'MINUTE';
  const local = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? '00'}${m[7] ? m[7].slice(0, 4) : ''}`;
  if (m[8]) {
    const offset = m[8] === 'Z' ? '+00:00' : m[8];
    const instant = Date.parse(`${local}Z`) - offsetToMinutes(offset) * 60000;
    if (Number.isNaN(instant)) throw new UnreadableTimeError(value);
    return { instant, original: value, offset, precision, offsetSource: 'SOURCE', date: null };
  }
  return fromLocal(local, value, precision, senderTimeZone);
}

/** ISO form of a ClinicalTime for comparisons and logs: the UTC instant, else the date. */
export function clinicalTimeIso(t: ClinicalTime | null | undefined): string | null {
  if (!t) return null;
  if (t.instant !== null) return new Date(t.instant).toISOString();
  return t.date;
}
