/** A facility's time zone and shift calendar (apps/task/workflows/facility.calendar.json). */
export interface FacilityCalendar {
  facility: string;
  timeZone: string;
  shifts: Array<{ name: string; start: string; end: string }>;
  endOfDay: string;
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

export function calendarProblems(raw: unknown, source: string): string[] {
  const problems: string[] = [];
  const c = raw as Partial<FacilityCalendar> | null;
  if (!c || typeof c !== 'object') return [`${source}: not an object`];
  if (typeof c.facility !== 'string' || !c.facility) problems.push(`${source}: facility: is required`);
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: String(c.timeZone) });
    if (typeof c.timeZone !== 'string') throw new Error();
  } catch {
    problems.push(`${source}: timeZone: not an IANA time zone (${JSON.stringify(c.timeZone)})`);
  }
  if (!Array.isArray(c.shifts) || c.shifts.length === 0) problems.push(`${source}: shifts: at least one shift is required`);
  else c.shifts.forEach((s, i) => {
    if (!s || typeof s.name !== 'string' || !s.name) problems.push(`${source}: shifts[${i}].name: is required`);
    if (!HHMM.test(String(s?.start))) problems.push(`${source}: shifts[${i}].start: must be HH:MM`);
    if (!HHMM.test(String(s?.end))) problems.push(`${source}: shifts[${i}].end: must be HH:MM`);
  });
  if (!HHMM.test(String(c.endOfDay))) problems.push(`${source}: endOfDay: must be HH:MM`);
  return problems;
}

interface LocalTime { year: number; month: number; day: number; minutes: number }

/**
 * One formatter per zone (the zones are the facility calendars', a handful): building an
 * `Intl.DateTimeFormat` costs far more than formatting with one, and every task's SLA clock reads
 * local time up to four times — building one per read was a sixth of the task service's CPU.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * Local times already read, per zone and UTC minute. Every zone's offset is a whole number of minutes
 * (for any date a clinical deadline can have), so every instant of a UTC minute has the same local
 * minute. SLA clocks read the same few minutes over and over — tasks opened in the same minute, the
 * same shift ends — and even with one formatter per zone, `formatToParts` was ~1 % of the task
 * service's CPU under the mixed feed.
 */
const readMinutes = new Map<string, LocalTime>();
const READ_MINUTES_KEPT = 4096;

function localTime(epochMs: number, timeZone: string): LocalTime {
  const minute = Math.floor(epochMs / 60_000);
  const key = `${timeZone}|${minute}`;
  const known = readMinutes.get(key);
  if (known) return known;
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' });
    formatters.set(timeZone, format);
  }
  const parts = format.formatToParts(new Date(minute * 60_000));
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  const local = { year: get('year'), month: get('month'), day: get('day'), minutes: get('hour') * 60 + get('minute') };
  if (readMinutes.size >= READ_MINUTES_KEPT) readMinutes.clear();
  readMinutes.set(key, local);
  return local;
}

/** The instant a local wall-clock time (day may overflow: day + 1) has in the zone (DST-aware). */
export function zonedInstant(year: number, month: number, day: number, minutes: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day, 0, minutes);
  let guess = wall;
  for (let i = 0; i < 3; i++) {
    const l = localTime(guess, timeZone);
    const seen = Date.UTC(l.year, l.month - 1, l.day, 0, l.minutes);
    const diff = wall - seen;
    if (diff === 0) break;
    guess += diff;
  }
  return guess;
}

/** End of the shift running at `from` (an overnight shift ends the next local day). */
export function endOfShift(calendar: FacilityCalendar, from: number): number {
  const l = localTime(from, calendar.timeZone);
  for (const s of calendar.shifts) {
    const start = minutesOf(s.start);
    const end = minutesOf(s.end);
    if (start < end && l.minutes >= start && l.minutes < end) return zonedInstant(l.year, l.month, l.day, end, calendar.timeZone);
    if (start >= end && l.minutes >= start) return zonedInstant(l.year, l.month, l.day + 1, end, calendar.timeZone);
    if (start >= end && l.minutes < end) return zonedInstant(l.year, l.month, l.day, end, calendar.timeZone);
  }
  // A gap between shifts: the next shift's end.
  const next = calendar.shifts.map((s) => minutesOf(s.start)).filter((m) => m > l.minutes).sort((a, b) => a - b)[0];
  const shift = calendar.shifts.find((s) => minutesOf(s.start) === next) ?? calendar.shifts[0];
  const end = minutesOf(shift.end);
  return zonedInstant(l.year, l.month, l.day + (next === undefined || end <= (next ?? 0) ? 1 : 0), end, calendar.timeZone);
}

/** The facility's end of the local day of `from` (the next day's when that has passed). */
export function endOfDay(calendar: FacilityCalendar, from: number): number {
  const l = localTime(from, calendar.timeZone);
  const eod = minutesOf(calendar.endOfDay);
  return zonedInstant(l.year, l.month, l.day + (l.minutes >= eod ? 1 : 0), eod, calendar.timeZone);
}
