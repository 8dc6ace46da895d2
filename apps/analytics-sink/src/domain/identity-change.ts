import type { IdentityEvent } from '@clinmesh/schemas';

/** What an identity change means for the analytics tables (pure). */
export type EpidChange =
  | { kind: 'merge'; surviving: string; merged: string; eventId: string; at: number }
  | { kind: 'unmerge'; surviving: string; restored: string; eventId: string; at: number };

/**
 * PERSONS_MERGED: every record of the merged person is re-pointed to the surviving EPID (and
 * records that arrive later under the merged EPID too). PERSONS_UNMERGED: records that came in
 * under the restored EPID point to it again. Other changes (links, reviews) change no row.
 */
export function epidChangeOf(event: IdentityEvent): EpidChange | null {
  if (!event.otherEpid || event.otherEpid === event.epid) return null;
  if (event.type === 'PERSONS_MERGED') return { kind: 'merge', surviving: event.epid, merged: event.otherEpid, eventId: event.eventId, at: event.at };
  if (event.type === 'PERSONS_UNMERGED') return { kind: 'unmerge', surviving: event.epid, restored: event.otherEpid, eventId: event.eventId, at: event.at };
  return null;
}
