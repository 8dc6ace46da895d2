import { DataSource } from 'typeorm';

export interface UnmappedCodeSummary {
  sourceSystem: string;
  codeSystem: string | null;
  code: string;
  display: string | null;
  element: string;
  reason: string;
  records: number;
  firstSeen: string;
  lastSeen: string;
  status: 'open' | 'resolved';
}

/** Unmapped codes grouped per source/system/code/element, with how many canonical records carry them. */
export async function listUnmappedCodes(db: DataSource, filter: { status: 'open' | 'resolved' | 'all'; sourceSystem?: string; limit: number }): Promise<UnmappedCodeSummary[]> {
  const rows = await db.query(
    `SELECT source_system, code_system, code, element, max(display) AS display, max(reason) AS reason, count(*)::int AS records,
            min(first_seen) AS first_seen, max(last_seen) AS last_seen, bool_and(resolved_at IS NOT NULL) AS resolved
       FROM nz_unmapped_code
      WHERE ($1 = 'all' OR ($1 = 'open' AND resolved_at IS NULL) OR ($1 = 'resolved' AND resolved_at IS NOT NULL))
        AND ($2::text IS NULL OR source_system = $2)
      GROUP BY source_system, code_system, code, element
      ORDER BY records DESC, source_system, code
      LIMIT $3`,
    [filter.status, filter.sourceSystem ?? null, filter.limit],
  );
  return rows.map((r: Record<string, any>) => ({
    sourceSystem: r.source_system, codeSystem: r.code_system || null, code: r.code, display: r.display, element: r.element, reason: r.reason,
    records: r.records, firstSeen: new Date(r.first_seen).toISOString(), lastSeen: new Date(r.last_seen).toISOString(), status: r.resolved ? 'resolved' : 'open',
  }));
}
