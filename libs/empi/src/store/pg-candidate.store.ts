import type { Pool } from 'pg';
import type { CandidateStore } from './candidate-store.port';
import { CandidateStoreError } from '../empi.errors';
import type { PersonRecord, StoredRecord } from '../record/person-record.model';
import { EMPI_PG_MIGRATIONS } from './pg-candidate.migration';
import { CANDIDATE_SEARCH_SQL, SAVE_RECORDS_SQL, candidateSearchParams, saveRecordsParams } from './sql-candidate.store';

interface RecordRow {
  record_id: string;
  person_id: string;
  data: PersonRecord;
  shared?: string | number;
}

/**
 * CandidateStore on PostgreSQL (the identity service's own database). The pool
 * is passed in so the service owns connection settings, TLS and lifecycle.
 * Candidates are ranked by how many blocking keys they share, in SQL, so the
 * limit is applied before any record payload is read.
 */
export class PgCandidateStore implements CandidateStore {
  constructor(private readonly pool: Pool) {}

  /** Creates the tables and indexes if absent. */
  async migrate(): Promise<void> {
    await this.run('migrate', () => this.pool.query(EMPI_PG_MIGRATIONS));
  }

  async findCandidates(blockingKeys: string[], limit: number, minEvidence = 1): Promise<StoredRecord[]> {
    if (blockingKeys.length === 0) return [];
    const { rows } = await this.run('findCandidates', () => this.pool.query<RecordRow>(CANDIDATE_SEARCH_SQL, candidateSearchParams(blockingKeys, limit, minEvidence)));
    return rows.map((r) => ({ recordId: r.record_id, personId: r.person_id, record: r.data, sharedKeys: Number(r.shared) }));
  }

  async save(record: PersonRecord, personId: string, blockingKeys: string[]): Promise<void> {
    await this.run('save', () => this.pool.query(SAVE_RECORDS_SQL, saveRecordsParams([{ record, personId, blockingKeys }])));
  }

  async assignPerson(recordIds: string[], personId: string): Promise<void> {
    if (recordIds.length === 0) return;
    await this.run('assignPerson', () =>
      this.pool.query('UPDATE empi_record SET person_id = $2, updated_at = now() WHERE record_id = ANY($1::text[])', [recordIds, personId]),
    );
  }

  async recordsOfPerson(personId: string): Promise<StoredRecord[]> {
    const { rows } = await this.run('recordsOfPerson', () =>
      this.pool.query<RecordRow>('SELECT record_id, person_id, data FROM empi_record WHERE person_id = $1 ORDER BY record_id', [personId]),
    );
    return rows.map((r) => ({ recordId: r.record_id, personId: r.person_id, record: r.data }));
  }

  private async run<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw new CandidateStoreError(`empi store ${operation} failed`, error);
    }
  }
}
