const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/**
 * Formats an instant as an HL7 DTM in UTC with an explicit `+0000` offset
 * (`YYYYMMDDHHMMSS[.SSS]+0000`): stating the offset is what lets receivers
 * turn it back into an instant without guessing the sender's zone.
 */
export function formatHl7DateTime(date: Date, opts: { milliseconds?: boolean } = {}): string {
  const base = `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}`;
  return base + (opts.milliseconds ? '.' + pad(date.getUTCMilliseconds(), 3) : '') + '+0000';
}
