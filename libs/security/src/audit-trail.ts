import { createHash } from 'node:crypto';
import { MigrationInterface, QueryRunner, DataSource } from 'typeorm';

export interface AuditEntry {
  actor: string;
  action: string;
  resource: string;
  /** Opaque patient reference (EPID or hashed key), never a name. */
  patientRef?: string | null;
  purpose?: string | null;
  outcome: 'allowed' | 'denied' | 'error';
  details?: Record<string, unknown>;
}

/**
 * Tamper-evident audit trail of patient-data reads (who, what, why, when):
 * each row stores the SHA-256 of its content and of the previous row, so
 * editing or deleting a row breaks the chain that `verify()` walks.
 * Appends are serialised with a transaction-level advisory lock.
 */
export class AuditTrail {
  constructor(private readonly dataSource: DataSource) {}

  async record(entry: AuditEntry): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK]);
      const prev = await m.query('SELECT hash FROM cm_audit ORDER BY seq DESC LIMIT 1');
      const prevHash: string = prev[0]?.hash ?? GENESIS;
      const at = new Date().toISOString();
      const body = canonical({ ...entry, at });
      const hash = createHash('sha256').update(prevHash).update(body).digest('hex');
      await m.query(
        'INSERT INTO cm_audit (at, actor, action, resource, patient_ref, purpose, outcome, details, prev_hash, hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8::jsonb,$9,$10)',
        [at, entry.actor, entry.action, entry.resource, entry.patientRef ?? null, entry.purpose ?? null, entry.outcome, JSON.stringify(entry.details ?? {}), prevHash, hash],
      );
    });
  }

  /** Walks the chain; returns the first broken sequence number, if any. */
  async verify(): Promise<{ ok: boolean; entries: number; brokenAt?: number }> {
    const rows = await this.dataSource.query('SELECT seq, at, actor, action, resource, patient_ref, purpose, outcome, details, prev_hash, hash FROM cm_audit ORDER BY seq');
    let prevHash = GENESIS;
    for (const r of rows) {
      const body = canonical({
        actor: r.actor, action: r.action, resource: r.resource, patientRef: r.patient_ref, purpose: r.purpose, outcome: r.outcome,
        details: r.details, at: new Date(r.at).toISOString(),
      });
      const expected = createHash('sha256').update(prevHash).update(body).digest('hex');
      if (r.prev_hash !== prevHash || r.hash !== expected) return { ok: false, entries: rows.length, brokenAt: Number(r.seq) };
      prevHash = r.hash;
    }
    return { ok: true, entries: rows.length };
  }

  async list(limit = 100): Promise<Array<Record<string, unknown>>> {
    return this.dataSource.query('SELECT seq, at, actor, action, resource, patient_ref, purpose, outcome FROM cm_audit ORDER BY seq DESC LIMIT $1', [limit]);
  }
}

const GENESIS = '0'.repeat(64);
const AUDIT_LOCK = 0x61756474; // 'audt'

function canonical(entry: AuditEntry & { at: string }): string {
  return JSON.stringify([entry.at, entry.actor, entry.action, entry.resource, entry.patientRef ?? null, entry.purpose ?? null, entry.outcome, sortKeys(entry.details ?? {})]);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  return value;
}

export class AuditTrailTable1732200000001 implements MigrationInterface {
  name = 'AuditTrailTable1732200000001';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE cm_audit (
      seq bigserial PRIMARY KEY, at timestamptz NOT NULL, actor text NOT NULL, action text NOT NULL, resource text NOT NULL,
      patient_ref text, purpose text, outcome text NOT NULL, details jsonb NOT NULL DEFAULT '{}', prev_hash text NOT NULL, hash text NOT NULL)`);
    await q.query('CREATE INDEX cm_audit_patient ON cm_audit (patient_ref, at)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS cm_audit');
  }
}
