import type { EventContext } from '@clinmesh/event-runtime';
import { EVENT_TOPICS } from '@clinmesh/topology';
import type { IdentityChange, IdentityEvent } from '@clinmesh/schemas';

/** One change of the index, to be published on clinical.identity.events keyed by `epid`. */
export interface IdentityChangeDraft {
  type: IdentityChange;
  epid: string;
  otherEpid: string | null;
  recordKey: string;
  method: string;
  score: number | null;
  /** REVIEW_REQUIRED / REVIEW_RESOLVED: the review item (the task service keeps its worklist by it). */
  reviewItemId?: string | null;
  /** REVIEW_RESOLVED: linked or kept-apart. */
  resolution?: string | null;
}

/**
 * Changes made in one transaction, each with a purpose unique within it (the
 * event id derives from the trigger's id + purpose, so a retry or replay
 * publishes the same ids).
 */
export class IdentityChangeLog {
  readonly changes: Array<{ purpose: string; change: IdentityChangeDraft }> = [];

  add(purpose: string, change: IdentityChangeDraft): void {
    this.changes.push({ purpose, change });
  }

  /** Emits every change on clinical.identity.events through the work's context (same transaction). */
  publish(ctx: EventContext): void {
    const at = Date.now();
    for (const { purpose, change } of this.changes) {
      const value: IdentityEvent = { eventId: ctx.deriveEventId(purpose), correlationId: ctx.origin.correlationId, ...change, at };
      ctx.emit({ topic: EVENT_TOPICS.identity, key: change.epid, value });
    }
  }
}
