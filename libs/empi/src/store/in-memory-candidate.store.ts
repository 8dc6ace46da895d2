import type { CandidateStore } from './candidate-store.port';
import type { PersonRecord, StoredRecord } from '../record/person-record.model';
import { keyEvidence } from '../matching/blocking-key.generator';

/** Map-indexed CandidateStore for unit tests and the benchmark; same ranking contract as PostgreSQL. */
export class InMemoryCandidateStore implements CandidateStore {
  private readonly records = new Map<string, { stored: StoredRecord; keys: string[] }>();
  private readonly index = new Map<string, Set<string>>();
  private readonly persons = new Map<string, Set<string>>();

  async findCandidates(blockingKeys: string[], limit: number, minEvidence = 1): Promise<StoredRecord[]> {
    const shared = new Map<string, number>();
    for (const key of new Set(blockingKeys)) {
      const ids = this.index.get(key);
      if (!ids) continue;
      const evidence = keyEvidence(key);
      for (const id of ids) shared.set(id, (shared.get(id) ?? 0) + evidence);
    }
    const ranked = [...shared].filter(([, n]) => n >= minEvidence).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, limit);
    return ranked.map(([id, count]) => ({ ...this.records.get(id)!.stored, sharedKeys: count }));
  }

  async save(record: PersonRecord, personId: string, blockingKeys: string[]): Promise<void> {
    this.remove(record.recordId);
    const keys = [...new Set(blockingKeys)];
    this.records.set(record.recordId, { stored: { recordId: record.recordId, personId, record }, keys });
    this.addToPerson(personId, record.recordId);
    for (const key of keys) {
      let ids = this.index.get(key);
      if (!ids) this.index.set(key, (ids = new Set()));
      ids.add(record.recordId);
    }
  }

  async assignPerson(recordIds: string[], personId: string): Promise<void> {
    for (const id of recordIds) {
      const entry = this.records.get(id);
      if (!entry) continue;
      this.persons.get(entry.stored.personId)?.delete(id);
      entry.stored = { ...entry.stored, personId };
      this.addToPerson(personId, id);
    }
  }

  async recordsOfPerson(personId: string): Promise<StoredRecord[]> {
    return [...(this.persons.get(personId) ?? [])].map((id) => this.records.get(id)!.stored);
  }

  async recordsOfPersons(personIds: string[], limitPerPerson: number): Promise<StoredRecord[]> {
    const out: StoredRecord[] = [];
    for (const p of personIds) out.push(...(await this.recordsOfPerson(p)).slice(-limitPerPerson));
    return out;
  }

  private addToPerson(personId: string, recordId: string): void {
    let set = this.persons.get(personId);
    if (!set) this.persons.set(personId, (set = new Set()));
    set.add(recordId);
  }

  /** Every stored record (frequency snapshots, estimation). */
  allRecords(): PersonRecord[] {
    return [...this.records.values()].map((e) => e.stored.record);
  }

  /** Every record's person, for evaluation and tests. */
  personOf(recordId: string): string | undefined {
    return this.records.get(recordId)?.stored.personId;
  }

  get size(): number {
    return this.records.size;
  }

  private remove(recordId: string): void {
    const entry = this.records.get(recordId);
    if (!entry) return;
    this.persons.get(entry.stored.personId)?.delete(recordId);
    for (const key of entry.keys) {
      const ids = this.index.get(key);
      ids?.delete(recordId);
      if (ids && ids.size === 0) this.index.delete(key);
    }
    this.records.delete(recordId);
  }
}
