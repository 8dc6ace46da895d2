/**
 * Timestamps of this service's rows as the HTTP answers and events show them (ISO-8601). node-postgres
 * returns a timestamptz as a Date; a value read through a text cast arrives as its text, kept as it is.
 */
export const isoTime = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));

/** `isoTime`, with SQL NULL as null. */
export const isoTimeOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : isoTime(v));
