import type { IdentityChange } from '@clinmesh/schemas';

/** One change of the index, to be published on clinical.identity.events keyed by `epid`. */
export interface IdentityChangeDraft {
  type: IdentityChange;
  epid: string;
  otherEpid: string | null;
  recordKey: string;
  method: string;
  score: number | null;
}

/**
 * Changes made in one transaction, each with a purpose unique within it (the
 * transport derives the event id from the trigger's id + purpose, so a retry
 * or replay publishes the same ids).
 */
export class IdentityChangeLog {
  readonly changes: Array<{ purpose: string; change: IdentityChangeDraft }> = [];

  add(purpose: string, change: IdentityChangeDraft): void {
    this.changes.push({ purpose, change });
  }
}
