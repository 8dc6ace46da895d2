import { ClinmeshError } from '@clinmesh/errors';

/** The errors a service answers for a missing or unusable `If-Match` (its own codes and wording). */
export interface IfMatchErrors {
  /** No header (or an empty one): 428 Precondition Required in the house style. */
  missing: () => Error;
  /** A header that is not a version: the service's 400 or 412. */
  malformed: (raw: string) => Error;
}

/** The generic errors, for a service without its own codes. */
export const IF_MATCH_ERRORS: IfMatchErrors = {
  missing: () => new ClinmeshError('HTTP.PRECONDITION_REQUIRED', 'If-Match with the resource version (its ETag) is required', { status: 428 }),
  malformed: (raw) => new ClinmeshError('HTTP.PRECONDITION_FAILED', `If-Match ${raw} is not a version of this resource`, { status: 412 }),
};

const VERSION = /^(?:W\/)?"?(\d+)"?$/;

/**
 * The integer version an `If-Match` names — `"3"`, `W/"3"` or `3` → 3 (the
 * ETag every read answers) — or the service's error: `missing` when there is
 * no header, `malformed` when it is not a version. Writes that take a version
 * require it (optimistic concurrency convention).
 */
export function ifMatchVersion(header: string | undefined, errors: IfMatchErrors = IF_MATCH_ERRORS): number {
  if (header === undefined || header === '') throw errors.missing();
  const m = VERSION.exec(header.trim());
  if (!m) throw errors.malformed(header);
  return Number(m[1]);
}

/** An opaque `If-Match` tag without its weak prefix and quotes (`W/"2026-01"` → `2026-01`); undefined stays undefined. */
export function ifMatchTag(header: string | undefined): string | undefined {
  return header === undefined ? undefined : header.replace(/^(W\/)?"|"$/g, '');
}
