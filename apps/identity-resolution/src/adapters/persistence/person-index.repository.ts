import { MigrationInterface, QueryRunner } from 'typeorm';
import { UnitOfWork } from '@clinmesh/event-runtime';
import { PersonIndexPort } from '../../domain/person-index.port';

/** Source record → person links, in identity-resolution's own database. */
export class PersonIndexRepository implements PersonIndexPort {
  constructor(private readonly uow: UnitOfWork) {}

  async linkBySourceKey(sourcePatientKey: string, proposedEpid: string): Promise<{ epid: string; created: boolean }> {
    const inserted = await this.uow.query<{ epid: string }>(
      `INSERT INTO ir_source_record (source_key, epid) VALUES ($1, $2) ON CONFLICT (source_key) DO NOTHING RETURNING epid`,
      [sourcePatientKey, proposedEpid],
    );
    if (inserted.length) {
      await this.uow.execute('INSERT INTO ir_person (epid) VALUES ($1) ON CONFLICT DO NOTHING', [proposedEpid]);
      return { epid: inserted[0].epid, created: true };
    }
    const existing = await this.uow.query<{ epid: string }>('SELECT epid FROM ir_source_record WHERE source_key = $1', [sourcePatientKey]);
    return { epid: existing[0].epid, created: false };
  }
}

export class PersonIndexTables1732200001000 implements MigrationInterface {
  name = 'PersonIndexTables1732200001000';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE ir_person (epid text PRIMARY KEY, status text NOT NULL DEFAULT 'active', created_at timestamptz NOT NULL DEFAULT now())`);
    await q.query(`CREATE TABLE ir_source_record (source_key text PRIMARY KEY, epid text NOT NULL REFERENCES ir_person(epid) DEFERRABLE INITIALLY DEFERRED, linked_at timestamptz NOT NULL DEFAULT now())`);
    await q.query('CREATE INDEX ir_source_record_epid ON ir_source_record (epid)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS ir_source_record');
    await q.query('DROP TABLE IF EXISTS ir_person');
  }
}
