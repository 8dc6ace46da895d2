import { PersonIndexError } from '../empi.errors';

/** person id → its record ids. Treated as immutable: every operation returns a new index. */
export type PersonIndex = ReadonlyMap<string, readonly string[]>;

export interface PersonIndexChange {
  index: PersonIndex;
  /** Record ids whose person changed (persist these with CandidateStore.assignPerson). */
  moved: string[];
}

export function buildPersonIndex(entries: Iterable<{ recordId: string; personId: string }>): PersonIndex {
  const index = new Map<string, string[]>();
  for (const { recordId, personId } of entries) {
    const list = index.get(personId) ?? [];
    list.push(recordId);
    index.set(personId, list);
  }
  return index;
}

export function personOfRecord(index: PersonIndex, recordId: string): string | undefined {
  for (const [personId, records] of index) if (records.includes(recordId)) return personId;
  return undefined;
}

/** Merge (ADT^A40 style): every record of `retiredId` moves to `survivorId`; the retired person disappears. */
export function mergePersons(index: PersonIndex, survivorId: string, retiredId: string): PersonIndexChange {
  if (survivorId === retiredId) throw new PersonIndexError('EMPI.PERSON.SAME', 'cannot merge a person into itself', { personId: survivorId });
  const survivor = index.get(survivorId);
  const retired = index.get(retiredId);
  if (!survivor) throw new PersonIndexError('EMPI.PERSON.NOT_FOUND', `unknown person ${survivorId}`, { personId: survivorId });
  if (!retired) throw new PersonIndexError('EMPI.PERSON.NOT_FOUND', `unknown person ${retiredId}`, { personId: retiredId });
  const next = new Map(index);
  next.set(survivorId, [...survivor, ...retired]);
  next.delete(retiredId);
  return { index: next, moved: [...retired] };
}

/**
 * Unmerge: the given records leave `personId` for `newPersonId` (a fresh
 * person, or an existing one when undoing a merge). Leaving a person empty
 * removes it.
 */
export function unmergeRecords(index: PersonIndex, personId: string, recordIds: readonly string[], newPersonId: string): PersonIndexChange {
  const records = index.get(personId);
  if (!records) throw new PersonIndexError('EMPI.PERSON.NOT_FOUND', `unknown person ${personId}`, { personId });
  if (newPersonId === personId) throw new PersonIndexError('EMPI.PERSON.SAME', 'unmerge target must differ from the source person', { personId });
  const missing = recordIds.filter((r) => !records.includes(r));
  if (missing.length > 0) {
    throw new PersonIndexError('EMPI.RECORD.NOT_IN_PERSON', `records not held by ${personId}: ${missing.join(', ')}`, { personId, recordIds: missing });
  }
  const moving = new Set(recordIds);
  const next = new Map(index);
  const remaining = records.filter((r) => !moving.has(r));
  if (remaining.length > 0) next.set(personId, remaining);
  else next.delete(personId);
  next.set(newPersonId, [...(index.get(newPersonId) ?? []), ...recordIds.filter((r, i) => recordIds.indexOf(r) === i)]);
  return { index: next, moved: [...moving] };
}
