/**
 * One thing a service did for a message, as its own tables record it
 * (an identity decision, a canonical record, a policy decision, a task, a
 * delivery with its attempts). `at` is when it happened (ISO-8601), so the
 * console can lay the stages out on one time line.
 */
export interface LineageItem {
  /** What it is, e.g. `identity-decision`, `canonical-record`, `policy-decision`, `task`, `delivery`, `source-message`. */
  kind: string;
  id?: string;
  at?: string | null;
  /** One line for the time line (no PHI beyond what the item itself is). */
  summary?: string;
  /** Patient reference (EPID) the item concerns, if any; the console masks it by default. */
  epid?: string | null;
  data?: Record<string, unknown>;
}

/** A service's own contribution to `GET /v1/lineage/{correlationId}`. */
export interface LineageContributor {
  contribute(correlationId: string): Promise<LineageItem[]>;
}

/** Holder the kit fills in after the app starts (the controller is created before the contributor). */
export class LineageRegistry {
  contributor: LineageContributor | undefined;
}

export const LINEAGE_REGISTRY = Symbol('LINEAGE_REGISTRY');

/** Timestamps from PostgreSQL rows as ISO strings. */
export function iso(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const d = value instanceof Date ? value : new Date(String(value));
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
