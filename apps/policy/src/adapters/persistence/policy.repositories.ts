import type { ConsentDirective, ConsentProvision } from '../../domain/consent';
import type { ActiveGrant } from '../../domain/decide';
import type {
  ConsentStore, DecisionRecord, DecisionStore, DeliveryReceipt, DeliveryStore, GrantStore, HeldView, HeldViewStore, IdentityIndex, PolicyStores, PolicyVersionStore, RejectionLog, ShadowDiff, ShadowDiffStore,
  StoredConsent, StoredGrant,
} from '../../application/ports';
import { perUnitOfWork, type UnitOfWork } from '@clinmesh/event-runtime';
import { PolicyChunkStore } from './policy-chunk.store';

/** The one SQL seam: a unit of work's query, or the data source's for reads. */
export interface Sql {
  query<T = Record<string, any>>(sql: string, params?: unknown[]): Promise<T[]>;
}

const DECISION_COLUMNS = [
  'decision_id', 'canonical_event_id', 'correlation_id', 'epid', 'audience', 'effect', 'obligations', 'policy_version', 'rule_ids', 'routing_rule_ids',
  'consent_id', 'consent_provision', 'consent_decision', 'labels', 'withheld_labels', 'purpose', 'grant_id', 'projection', 'deidentified', 'tier',
  'original_tier', 'critical', 'workflows', 'routed_event_id', 'resource_type', 'reason', 'explanation',
] as const;

function decisionOf(r: Record<string, any>): DecisionRecord {
  return {
    decisionId: r.decision_id, canonicalEventId: r.canonical_event_id, correlationId: r.correlation_id, epid: r.epid, audience: r.audience, effect: r.effect,
    obligations: r.obligations, policyVersion: r.policy_version, ruleIds: r.rule_ids, routingRuleIds: r.routing_rule_ids, consentId: r.consent_id,
    consentProvision: r.consent_provision, consentDecision: r.consent_decision, labels: r.labels, withheldLabels: r.withheld_labels, purpose: r.purpose,
    grantId: r.grant_id, projection: r.projection, deidentified: r.deidentified, tier: r.tier, originalTier: r.original_tier, critical: r.critical,
    workflows: r.workflows, routedEventId: r.routed_event_id, resourceType: r.resource_type, reason: r.reason, explanation: r.explanation,
    revokedAt: r.revoked_at ? new Date(r.revoked_at).toISOString() : null, revokedReason: r.revoked_reason, decidedAt: new Date(r.decided_at).toISOString(),
  };
}

export class DecisionRepository implements DecisionStore {
  constructor(private readonly sql: Sql) {}

  /**
   * One statement for any number of rows (the canonical path's chunk store writes a whole chunk's
   * decisions with it): the rows travel as one JSON parameter, read back as pl_decision rows. A
   * replayed event's decisions are already there (same ids): the stored ones stay.
   */
  async insert(rows: DecisionRecord[]): Promise<void> {
    if (!rows.length) return;
    const json = rows.map((row) => ({
      decision_id: row.decisionId, canonical_event_id: row.canonicalEventId, correlation_id: row.correlationId, epid: row.epid, audience: row.audience,
      effect: row.effect, obligations: row.obligations, policy_version: row.policyVersion, rule_ids: row.ruleIds, routing_rule_ids: row.routingRuleIds,
      consent_id: row.consentId, consent_provision: row.consentProvision, consent_decision: row.consentDecision, labels: row.labels,
      withheld_labels: row.withheldLabels, purpose: row.purpose, grant_id: row.grantId, projection: row.projection, deidentified: row.deidentified, tier: row.tier,
      original_tier: row.originalTier, critical: row.critical, workflows: row.workflows, routed_event_id: row.routedEventId, resource_type: row.resourceType,
      reason: row.reason, explanation: row.explanation,
    }));
    const columns = DECISION_COLUMNS.join(',');
    await this.sql.query(
      `INSERT INTO pl_decision (${columns}) SELECT ${columns} FROM json_populate_recordset(NULL::pl_decision, $1::json) ON CONFLICT (decision_id) DO NOTHING`,
      [JSON.stringify(json)],
    );
  }

  async byCorrelation(correlationId: string): Promise<DecisionRecord[]> {
    return (await this.sql.query('SELECT * FROM pl_decision WHERE correlation_id = $1 ORDER BY decided_at, audience', [correlationId])).map(decisionOf);
  }

  async byId(decisionId: string): Promise<DecisionRecord | undefined> {
    return (await this.sql.query('SELECT * FROM pl_decision WHERE decision_id = $1', [decisionId])).map(decisionOf)[0];
  }

  /** Decisions that released data to an audience of the patient since a time, not revoked yet (candidates for withdrawal). */
  async releasedSince(epid: string, since: Date): Promise<DecisionRecord[]> {
    return (await this.sql.query(
      `SELECT * FROM pl_decision WHERE epid = $1 AND effect <> 'DENY' AND revoked_at IS NULL AND decided_at >= $2 ORDER BY decided_at`, [epid, since],
    )).map(decisionOf);
  }

  async revoke(decisionIds: string[], reason: string): Promise<void> {
    if (decisionIds.length) await this.sql.query('UPDATE pl_decision SET revoked_at = now(), revoked_reason = $2 WHERE decision_id = ANY($1) AND revoked_at IS NULL', [decisionIds, reason]);
  }

  /** Released decisions of these patients with their deliveries (accounting of disclosures). */
  async disclosures(epids: string[], limit: number): Promise<Array<DecisionRecord & { deliveries: Array<{ subscriptionId: string; at: string }> }>> {
    const rows = await this.sql.query(
      `SELECT d.*, COALESCE(json_agg(json_build_object('subscriptionId', x.subscription_id, 'at', x.at) ORDER BY x.at) FILTER (WHERE x.event_id IS NOT NULL), '[]') AS deliveries
         FROM pl_decision d LEFT JOIN pl_delivery x ON x.source_event_id = d.routed_event_id AND x.status = 'DELIVERED'
        WHERE d.epid = ANY($1) AND d.effect <> 'DENY'
        GROUP BY d.decision_id ORDER BY d.decided_at DESC LIMIT $2`, [epids, limit],
    );
    return rows.map((r) => ({ ...decisionOf(r), deliveries: r.deliveries }));
  }

  async mergePatient(from: string, to: string): Promise<void> {
    await this.sql.query('UPDATE pl_decision SET epid = $2 WHERE epid = $1', [from, to]);
  }
}

export class IdentityIndexRepository implements IdentityIndex {
  constructor(private readonly sql: Sql) {}
  async upsert(recordKey: string, epid: string): Promise<void> {
    await this.upsertMany([{ recordKey, epid }]);
  }
  async upsertMany(links: Array<{ recordKey: string; epid: string }>): Promise<void> {
    // ON CONFLICT cannot touch one row twice in a statement: a key given twice keeps its last EPID, as one by one.
    const last = new Map(links.map((l) => [l.recordKey, l.epid]));
    if (!last.size) return;
    await this.sql.query(
      `INSERT INTO pl_identity_index (record_key, epid) SELECT * FROM unnest($1::text[], $2::text[])
       ON CONFLICT (record_key) DO UPDATE SET epid = EXCLUDED.epid, updated_at = now()`,
      [[...last.keys()], [...last.values()]],
    );
  }
  async epidsOf(recordKeys: string[]): Promise<string[]> {
    const rows = await this.sql.query<{ epid: string }>('SELECT DISTINCT epid FROM pl_identity_index WHERE record_key = ANY($1)', [recordKeys]);
    return rows.map((r) => r.epid);
  }
  async mergePatient(from: string, to: string): Promise<void> {
    await this.sql.query('UPDATE pl_identity_index SET epid = $2, updated_at = now() WHERE epid = $1', [from, to]);
  }
}

function consentOf(r: Record<string, any>): StoredConsent {
  return {
    id: r.id, version: r.version, status: r.status, patientKeys: r.patient_keys, patientSystem: r.patient_system, epid: r.epid, resource: r.resource,
    provision: r.provision, recordedBy: r.recorded_by, createdAt: new Date(r.created_at).toISOString(), updatedAt: new Date(r.updated_at).toISOString(),
    appliedAt: r.applied_at ? new Date(r.applied_at).toISOString() : null,
  };
}

export class ConsentRepository implements ConsentStore {
  constructor(private readonly sql: Sql) {}

  async insert(c: Omit<StoredConsent, 'createdAt' | 'updatedAt' | 'appliedAt'>): Promise<StoredConsent> {
    const rows = await this.sql.query(
      `INSERT INTO pl_consent (id, version, status, patient_keys, patient_system, epid, resource, provision, recorded_by, applied_at)
       VALUES ($1,$2,$3,$4,$5,$6,$7::jsonb,$8::jsonb,$9, CASE WHEN $6::text IS NULL THEN NULL ELSE now() END) RETURNING *`,
      [c.id, c.version, c.status, c.patientKeys, c.patientSystem, c.epid, JSON.stringify(c.resource), JSON.stringify(c.provision), c.recordedBy],
    );
    return consentOf(rows[0]);
  }

  /** Optimistic update: only when the stored version is the expected one; undefined = lost the race. */
  async update(id: string, expectedVersion: number, c: { status: string; resource: Record<string, unknown>; provision: ConsentProvision }): Promise<StoredConsent | undefined> {
    const rows = await this.sql.query(
      `UPDATE pl_consent SET version = version + 1, status = $3, resource = $4::jsonb, provision = $5::jsonb, updated_at = now()
        WHERE id = $1 AND version = $2 RETURNING *`,
      [id, expectedVersion, c.status, JSON.stringify(c.resource), JSON.stringify(c.provision)],
    );
    return rows[0] ? consentOf(rows[0]) : undefined;
  }

  async get(id: string, forUpdate = false): Promise<StoredConsent | undefined> {
    return (await this.sql.query(`SELECT * FROM pl_consent WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id])).map(consentOf)[0];
  }

  async byPatientKeys(keys: string[]): Promise<StoredConsent[]> {
    return (await this.sql.query('SELECT * FROM pl_consent WHERE patient_keys && $1 ORDER BY created_at', [keys])).map(consentOf);
  }

  async activeDirectives(epid: string): Promise<ConsentDirective[]> {
    const rows = await this.sql.query<{ id: string; epid: string; provision: ConsentProvision }>(
      `SELECT id, epid, provision FROM pl_consent WHERE epid = $1 AND status = 'active' ORDER BY created_at`, [epid]);
    return rows.map((r) => ({ id: r.id, epid: r.epid, provision: r.provision }));
  }

  async activeDirectivesFor(epids: string[]): Promise<ConsentDirective[]> {
    const rows = await this.sql.query<{ id: string; epid: string; provision: ConsentProvision }>(
      `SELECT id, epid, provision FROM pl_consent WHERE epid = ANY($1) AND status = 'active' ORDER BY created_at`, [epids]);
    return rows.map((r) => ({ id: r.id, epid: r.epid, provision: r.provision }));
  }

  /** Pending consents of a record key get their patient; returns those applied now. */
  async resolvePending(recordKey: string, epid: string): Promise<StoredConsent[]> {
    return (await this.resolvePendingMany([{ recordKey, epid }]))[0];
  }

  async resolvePendingMany(links: Array<{ recordKey: string; epid: string }>): Promise<StoredConsent[][]> {
    const out: StoredConsent[][] = links.map(() => []);
    if (!links.length) return out;
    // Each pending consent goes to the first link (in order) whose key it names, with that link's EPID.
    const rows = await this.sql.query(
      `WITH link AS (SELECT k, e, i FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(k, e, i)),
            first AS (SELECT DISTINCT ON (c.id) c.id, link.e, link.i FROM pl_consent c JOIN link ON c.patient_keys @> ARRAY[link.k]
                       WHERE c.epid IS NULL ORDER BY c.id, link.i)
       UPDATE pl_consent c SET epid = first.e, applied_at = now(), updated_at = now() FROM first WHERE c.id = first.id
       RETURNING c.*, first.i AS link_no`,
      [links.map((l) => l.recordKey), links.map((l) => l.epid)],
    );
    for (const r of rows) out[Number(r.link_no) - 1].push(consentOf(r));
    return out;
  }

  async mergePatient(from: string, to: string): Promise<string[]> {
    const rows = await this.sql.query<{ id: string }>('UPDATE pl_consent SET epid = $2, updated_at = now() WHERE epid = $1 RETURNING id', [from, to]);
    return rows.map((r) => r.id);
  }
}

function grantOf(r: Record<string, any>): StoredGrant {
  return {
    id: r.id, epid: r.epid, audience: r.audience, actor: r.actor, reason: r.reason, grantedAt: new Date(r.granted_at).toISOString(),
    expiresAt: new Date(r.expires_at).toISOString(), status: r.status,
  };
}

export class GrantRepository implements GrantStore {
  constructor(private readonly sql: Sql) {}

  async insert(g: { id: string; epid: string; audience: string; actor: string; reason: string; expiresAt: Date }): Promise<StoredGrant> {
    const rows = await this.sql.query(
      `INSERT INTO pl_break_glass (id, epid, audience, actor, reason, expires_at) VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id RETURNING *`,
      [g.id, g.epid, g.audience, g.actor, g.reason, g.expiresAt],
    );
    return grantOf(rows[0]);
  }

  async active(epid: string, now: Date): Promise<ActiveGrant[]> {
    const rows = await this.sql.query<{ id: string; audience: string; expires_at: Date }>(
      `SELECT id, audience, expires_at FROM pl_break_glass WHERE epid = $1 AND status = 'active' AND expires_at > $2`, [epid, now]);
    return rows.map((r) => ({ id: r.id, audience: r.audience, expiresAt: new Date(r.expires_at).getTime() }));
  }

  async activeFor(epids: string[], now: Date): Promise<Array<ActiveGrant & { epid: string }>> {
    const rows = await this.sql.query<{ id: string; epid: string; audience: string; expires_at: Date }>(
      `SELECT id, epid, audience, expires_at FROM pl_break_glass WHERE epid = ANY($1) AND status = 'active' AND expires_at > $2`, [epids, now]);
    return rows.map((r) => ({ id: r.id, epid: r.epid, audience: r.audience, expiresAt: new Date(r.expires_at).getTime() }));
  }

  /** The durable timer: due grants, claimed so that two instances never expire one twice. */
  async claimDue(now: Date, limit: number): Promise<StoredGrant[]> {
    return (await this.sql.query(
      `SELECT * FROM pl_break_glass WHERE status = 'active' AND expires_at <= $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED`, [now, limit],
    )).map(grantOf);
  }

  async markExpired(id: string): Promise<void> {
    await this.sql.query(`UPDATE pl_break_glass SET status = 'expired', expired_at = now() WHERE id = $1`, [id]);
  }

  async get(id: string): Promise<StoredGrant | undefined> {
    return (await this.sql.query('SELECT * FROM pl_break_glass WHERE id = $1', [id])).map(grantOf)[0];
  }

  async mergePatient(from: string, to: string): Promise<void> {
    await this.sql.query('UPDATE pl_break_glass SET epid = $2 WHERE epid = $1', [from, to]);
  }
}

export class PolicyVersionRepository implements PolicyVersionStore {
  constructor(private readonly sql: Sql) {}
  async active(): Promise<{ version: string; document: unknown; source: string; activatedAt: string } | undefined> {
    const rows = await this.sql.query(`SELECT * FROM pl_policy_version WHERE status = 'active' ORDER BY activated_at DESC LIMIT 1`);
    return rows[0] && { version: rows[0].version, document: rows[0].document, source: rows[0].source, activatedAt: new Date(rows[0].activated_at).toISOString() };
  }
  async known(version: string): Promise<boolean> {
    return (await this.sql.query('SELECT 1 FROM pl_policy_version WHERE version = $1', [version])).length > 0;
  }
  async activate(version: string, document: unknown, source: string): Promise<void> {
    await this.sql.query(`UPDATE pl_policy_version SET status = 'retired' WHERE status = 'active' AND version <> $1`, [version]);
    await this.sql.query(
      `INSERT INTO pl_policy_version (version, document, status, source, activated_at) VALUES ($1, $2::jsonb, 'active', $3, now())
       ON CONFLICT (version) DO UPDATE SET status = 'active', document = EXCLUDED.document, activated_at = now()`,
      [version, JSON.stringify(document), source],
    );
  }
  async saveCandidate(version: string, document: unknown, source: string): Promise<void> {
    await this.sql.query(`UPDATE pl_policy_version SET status = 'discarded' WHERE status = 'candidate'`);
    await this.sql.query(
      `INSERT INTO pl_policy_version (version, document, status, source) VALUES ($1, $2::jsonb, 'candidate', $3)
       ON CONFLICT (version) DO UPDATE SET status = 'candidate', document = EXCLUDED.document, loaded_at = now()`,
      [version, JSON.stringify(document), source],
    );
  }
  async candidate(): Promise<{ version: string; document: unknown } | undefined> {
    const rows = await this.sql.query(`SELECT * FROM pl_policy_version WHERE status = 'candidate' LIMIT 1`);
    return rows[0] && { version: rows[0].version, document: rows[0].document };
  }
  async discardCandidate(): Promise<void> {
    await this.sql.query(`UPDATE pl_policy_version SET status = 'discarded' WHERE status = 'candidate'`);
  }
}

export class ShadowDiffRepository implements ShadowDiffStore {
  constructor(private readonly sql: Sql) {}
  /** One statement for any number of diffs, inserted in their order (ids ascending as one by one); a diff already kept stays. */
  async insert(rows: ShadowDiff[]): Promise<void> {
    if (!rows.length) return;
    const json = rows.map((r) => ({
      candidate_version: r.candidateVersion, active_version: r.activeVersion, canonical_event_id: r.canonicalEventId, correlation_id: r.correlationId,
      audience: r.audience, active: r.active, candidate: r.candidate,
    }));
    await this.sql.query(
      `INSERT INTO pl_shadow_diff (candidate_version, active_version, canonical_event_id, correlation_id, audience, active, candidate)
       SELECT t.candidate_version, t.active_version, t.canonical_event_id, t.correlation_id, t.audience, t.active, t.candidate
         FROM json_populate_recordset(NULL::pl_shadow_diff, $1::json) WITH ORDINALITY AS t
        ORDER BY t.ordinality
       ON CONFLICT DO NOTHING`,
      [JSON.stringify(json)],
    );
  }
  async list(candidateVersion: string, limit: number): Promise<ShadowDiff[]> {
    const rows = await this.sql.query('SELECT * FROM pl_shadow_diff WHERE candidate_version = $1 ORDER BY id DESC LIMIT $2', [candidateVersion, limit]);
    return rows.map((r) => ({
      candidateVersion: r.candidate_version, activeVersion: r.active_version, canonicalEventId: r.canonical_event_id, correlationId: r.correlation_id,
      audience: r.audience, active: r.active, candidate: r.candidate, at: new Date(r.at).toISOString(),
    }));
  }
  async count(candidateVersion: string): Promise<number> {
    return Number((await this.sql.query<{ n: string }>('SELECT count(*) AS n FROM pl_shadow_diff WHERE candidate_version = $1', [candidateVersion]))[0].n);
  }
}

export class DeliveryRepository implements DeliveryStore {
  constructor(private readonly sql: Sql) {}
  async insert(rows: DeliveryReceipt[]): Promise<void> {
    if (!rows.length) return;
    await this.sql.query(
      `INSERT INTO pl_delivery (event_id, source_event_id, subscription_id, status, at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) ON CONFLICT (event_id) DO NOTHING`,
      [rows.map((d) => d.eventId), rows.map((d) => d.sourceEventId), rows.map((d) => d.subscriptionId), rows.map((d) => d.status), rows.map((d) => d.at)],
    );
  }
}

export class RejectionRepository implements RejectionLog {
  constructor(private readonly sql: Sql) {}
  async record(r: { kind: string; code: string; detail: string; issues: unknown[]; actor: string }): Promise<void> {
    await this.sql.query('INSERT INTO pl_rejection (kind, code, detail, issues, actor) VALUES ($1,$2,$3,$4::jsonb,$5)', [r.kind, r.code, r.detail.slice(0, 2000), JSON.stringify(r.issues), r.actor]);
  }
}

/** Views held by delay rules: the row is the view as it will be published, released by the durable timer. */
export class HeldViewRepository implements HeldViewStore {
  constructor(private readonly sql: Sql) {}
  async hold(views: HeldView[]): Promise<void> {
    if (!views.length) return;
    await this.sql.query(
      `INSERT INTO pl_held_view (routed_event_id, decision_id, audience, topic, key, tier, value, release_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::timestamptz[])
       ON CONFLICT (routed_event_id) DO NOTHING`,
      [views.map((v) => v.routedEventId), views.map((v) => v.decisionId), views.map((v) => v.audience), views.map((v) => v.topic), views.map((v) => v.key),
        views.map((v) => v.tier), views.map((v) => JSON.stringify(v.value)), views.map((v) => v.releaseAt)],
    );
  }
  async due(now: Date, limit: number): Promise<HeldView[]> {
    const rows = await this.sql.query('SELECT * FROM pl_held_view WHERE released_at IS NULL AND release_at <= $1 ORDER BY release_at, routed_event_id LIMIT $2', [now, limit]);
    return rows.map((r) => ({
      routedEventId: r.routed_event_id, decisionId: r.decision_id, audience: r.audience, topic: r.topic, key: r.key, tier: r.tier, value: r.value, releaseAt: new Date(r.release_at),
    }));
  }
  async claim(routedEventIds: string[]): Promise<Set<string>> {
    if (!routedEventIds.length) return new Set();
    const rows = await this.sql.query<{ id: string }>(
      'SELECT routed_event_id AS id FROM pl_held_view WHERE routed_event_id = ANY($1::text[]) AND released_at IS NULL FOR UPDATE SKIP LOCKED', [routedEventIds]);
    return new Set(rows.map((r) => r.id));
  }
  async markReleased(routedEventIds: string[]): Promise<void> {
    if (routedEventIds.length) await this.sql.query('UPDATE pl_held_view SET released_at = clock_timestamp() WHERE routed_event_id = ANY($1::text[])', [routedEventIds]);
  }
  async pendingCount(): Promise<number> {
    return Number((await this.sql.query('SELECT count(*)::int AS n FROM pl_held_view WHERE released_at IS NULL'))[0].n);
  }
}

/**
 * Every store over one SQL seam. `chunk` is the consumers' per-transaction store
 * (`PolicyChunkStore`, one per unit of work): a consumer's prepare, handlers and complete reach the
 * same one through it. HTTP and timer paths use the other repositories, one statement each.
 */
export function policyStores(sql: Sql): PolicyStores {
  return { ...repositories(sql), get chunk() { return chunkStores(sql); } };
}

function repositories(sql: Sql): Omit<PolicyStores, 'chunk'> {
  return {
    decisions: new DecisionRepository(sql), identities: new IdentityIndexRepository(sql), consents: new ConsentRepository(sql), grants: new GrantRepository(sql),
    versions: new PolicyVersionRepository(sql), shadow: new ShadowDiffRepository(sql), deliveries: new DeliveryRepository(sql), held: new HeldViewRepository(sql),
  };
}

/**
 * The chunk store of each unit of work (its SQL seam). Its complete-step writes go through a seam that
 * defers each statement to the transaction's end (`uow.deferWrite`): the bulk inserts read no answer back.
 */
const chunkStores = perUnitOfWork((sql: Sql) => new PolicyChunkStore(repositories(sql), isUnitOfWork(sql) ? repositories(deferring(sql)) : undefined));

function isUnitOfWork(sql: Sql): sql is Sql & UnitOfWork {
  return typeof (sql as Partial<UnitOfWork>).deferWrite === 'function';
}

/** A seam whose statements run at the end of `uow` (for writes with no answer to read). */
function deferring(uow: UnitOfWork): Sql {
  return {
    query: async <T>(sql: string, params?: unknown[]): Promise<T[]> => {
      uow.deferWrite(sql, params);
      return [];
    },
  };
}
