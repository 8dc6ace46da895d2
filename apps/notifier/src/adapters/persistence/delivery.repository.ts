import { DataSource } from 'typeorm';
import { inTransaction, queryPrepared, type UnitOfWork } from '@clinmesh/event-runtime';
import { TIER_RANK, Tier } from '@clinmesh/topology';
import type { Breaker, BreakerState } from '../../domain/circuit-breaker';
import type { AttemptRow, ClaimedDelivery, DeliveryStore, NewDelivery, SubscriptionHealth } from '../../application/notifier.ports';

const CLAIMED_COLUMNS = `d.delivery_id, d.subscription_id, s.kind, s.url, s.audience, s.purpose_of_use, d.source_event_id, d.correlation_id, d.event_type,
  d.tier, d.epid, d.decision_id, d.payload, d.attempts, d.attempt_base, d.probe, d.received_at, s.secret_sealed,
  CASE WHEN s.previous_secret_until > now() THEN s.previous_secret_sealed END AS previous_secret_sealed, s.fhir,
  (SELECT r.reason FROM nf_revoked_decision r WHERE r.decision_id = d.decision_id) AS revoked_reason,
  EXISTS (SELECT 1 FROM nf_revoked_decision r WHERE r.decision_id = d.decision_id) AS revoked`;

/**
 * Per-patient order (subscriptions with `ordering = 'patient'`): a delivery is claimable only when no
 * earlier delivery of its patient to that subscription is still open.
 */
const PATIENT_TURN = `(s.ordering <> 'patient' OR d.epid IS NULL OR NOT EXISTS (
  SELECT 1 FROM nf_delivery p WHERE p.subscription_id = d.subscription_id AND p.epid = d.epid AND p.seq < d.seq AND p.status IN ('pending', 'in_flight')))`;

/** A subscription's last success is kept to within this (the FHIR heartbeat's clock needs seconds, not milliseconds). */
const SUCCESS_NOTE_MS = 1000;

/**
 * The claim of due deliveries (`claimDue`): $1 limit, $2 lease seconds, $3 per-subscription cap, $4 highest tier rank.
 *
 * Prepared: planning this statement took longer than running it (1.5 ms a call), and it runs several times a second.
 * Due and expired deliveries are two ordered branches, each cut at the cap: one scan over both states
 * (an OR) could not use the (subscription, tier, due) index for order, so every claim read and sorted
 * the subscription's whole backlog — 9.5 ms and 1,940 buffers at 4,500 pending, against 1.7 ms and 460
 * now (generic plan; the cap is a plain parameter so the planner knows each branch stops early).
 * `cand` is MATERIALIZED: inlined, it became the inner side of a nested loop under `picked` and ran
 * once per open delivery (estimates of a queue table that fills faster than it is analysed say "1
 * row" on both sides) — 29 ms a claim, up to 110 ms, at a few hundred open deliveries, which was
 * 60% of all database time in a mixed-feed run. Computed once, the candidates are a few rows.
 */
export const CLAIM_DUE_SQL = `WITH busy AS (SELECT subscription_id, count(*)::int AS n FROM nf_delivery WHERE status = 'in_flight' AND lease_until >= now() GROUP BY subscription_id),
 cand AS MATERIALIZED (
   SELECT c.delivery_id, c.tier_rank, c.due_at FROM nf_subscription s LEFT JOIN busy b ON b.subscription_id = s.id
   CROSS JOIN LATERAL (
     SELECT u.delivery_id, u.tier_rank, u.due_at FROM (
       (SELECT d.delivery_id, d.tier_rank, d.due_at FROM nf_delivery d
         WHERE d.subscription_id = s.id AND d.status = 'pending' AND d.tier_rank <= $4 AND d.due_at <= now() AND ${PATIENT_TURN}
         ORDER BY d.tier_rank, d.due_at LIMIT $3)
       UNION ALL
       (SELECT d.delivery_id, d.tier_rank, d.due_at FROM nf_delivery d
         WHERE d.subscription_id = s.id AND d.status = 'in_flight' AND d.lease_until < now() AND d.tier_rank <= $4 AND ${PATIENT_TURN}
         ORDER BY d.tier_rank, d.due_at LIMIT $3)) u
     ORDER BY u.tier_rank, u.due_at LIMIT GREATEST(0, $3 - COALESCE(b.n, 0))) c
   WHERE s.status = 'active' AND s.breaker_state = 'closed'),
 picked AS (
   SELECT d.delivery_id FROM nf_delivery d JOIN cand ON cand.delivery_id = d.delivery_id
   WHERE (d.status = 'pending' OR (d.status = 'in_flight' AND d.lease_until < now()))
   ORDER BY cand.tier_rank, cand.due_at LIMIT $1 FOR UPDATE OF d SKIP LOCKED),
 claimed AS (UPDATE nf_delivery d SET status = 'in_flight', lease_until = now() + make_interval(secs => $2), attempts = d.attempts + 1, probe = false
   FROM picked WHERE d.delivery_id = picked.delivery_id RETURNING d.*)
 SELECT ${CLAIMED_COLUMNS} FROM claimed d JOIN nf_subscription s ON s.id = d.subscription_id`;

/** All SQL on deliveries, attempts, breaker/health state and revoked decisions. */
export class DeliveryRepository implements DeliveryStore {
  /** When this process last noted a success per subscription (noteSuccess writes at most once a second each). */
  private readonly successNoted = new Map<string, number>();

  constructor(private readonly db: DataSource) {}

  async enqueue(uow: UnitOfWork, rows: NewDelivery[]): Promise<number> {
    if (!rows.length) return 0;
    const values: unknown[] = [];
    const tuples = rows.map((r, i) => {
      values.push(r.deliveryId, r.subscriptionId, r.sourceEventId, r.correlationId, r.eventType, r.tier, TIER_RANK[r.tier], r.epid, r.decisionId,
        JSON.stringify(r.payload), r.fhirEventNumber, r.focus, r.receivedAt);
      const b = i * 13;
      return `($${b + 1},$${b + 2},$${b + 3},$${b + 4},$${b + 5},$${b + 6},$${b + 7},$${b + 8},$${b + 9},$${b + 10}::jsonb,$${b + 11},$${b + 12},to_timestamp($${b + 13}::double precision / 1000.0))`;
    });
    return uow.execute(
      `INSERT INTO nf_delivery (delivery_id, subscription_id, source_event_id, correlation_id, event_type, tier, tier_rank, epid, decision_id, payload, fhir_event_number, focus, received_at)
       VALUES ${tuples.join(',')} ON CONFLICT (delivery_id) DO NOTHING`,
      values,
    );
  }

  async takeFhirEventNumber(uow: UnitOfWork, subscriptionId: string): Promise<number> {
    const [r] = await uow.query<{ n: string }>('UPDATE nf_subscription SET fhir_events = fhir_events + 1 WHERE id = $1 RETURNING fhir_events AS n', [subscriptionId]);
    return Number(r.n);
  }

  async revokedAmong(uow: UnitOfWork, decisionIds: string[]): Promise<Set<string>> {
    if (!decisionIds.length) return new Set();
    const rows = await uow.query<{ decision_id: string }>('SELECT decision_id FROM nf_revoked_decision WHERE decision_id = ANY($1::text[])', [decisionIds]);
    return new Set(rows.map((r) => r.decision_id));
  }

  async recordRevokedDecision(uow: UnitOfWork, r: { decisionId: string; epid: string | null; audience: string | null; reason: string | null; at: number; sourceEventId: string }): Promise<void> {
    await uow.execute(
      `INSERT INTO nf_revoked_decision (decision_id, epid, audience, reason, revoked_at, source_event_id) VALUES ($1,$2,$3,$4,to_timestamp($5::double precision / 1000.0),$6)
       ON CONFLICT (decision_id) DO NOTHING`,
      [r.decisionId, r.epid, r.audience, r.reason, r.at, r.sourceEventId],
    );
  }

  async cancelForDecision(uow: UnitOfWork, decisionId: string, reason: string): Promise<ClaimedDelivery[]> {
    const rows = await uow.query(
      `WITH c AS (UPDATE nf_delivery SET status = 'cancelled', end_reason = $2, finished_at = now(), lease_until = NULL
         WHERE decision_id = $1 AND status = 'pending' RETURNING *)
       SELECT ${CLAIMED_COLUMNS} FROM c d JOIN nf_subscription s ON s.id = d.subscription_id`,
      [decisionId, reason],
    );
    return rows.map(toClaimed);
  }

  /**
   * Due deliveries of active subscriptions whose breaker is closed, at most
   * `perSubscription` in flight per subscription (a slow or hanging endpoint
   * never takes the whole worker before its breaker opens), per-patient order
   * where asked, most urgent tier first.
   */
  async claimDue(limit: number, leaseSeconds: number, perSubscription: number, maxTierRank = TIER_RANK.bulk): Promise<ClaimedDelivery[]> {
    const { rows } = await queryPrepared<Record<string, unknown>>(this.db, CLAIM_DUE_SQL, [limit, leaseSeconds, perSubscription, maxTierRank]);
    return rows.map(toClaimed);
  }

  /**
   * Half-open probes: a subscription whose breaker's open period is over (or
   * whose probe's worker died) is moved to half_open by one atomic UPDATE —
   * only one replica wins it — and exactly one delivery (its oldest) is
   * claimed as the probe.
   */
  async claimProbes(leaseSeconds: number): Promise<ClaimedDelivery[]> {
    return inTransaction(this.db, async (uow) => {
      const q = (sql: string, params: unknown[]) => uow.query<Record<string, any>>(sql, params, { prepared: true });
      const subs = await q(
        `WITH c AS (SELECT id FROM nf_subscription
           WHERE status = 'active' AND ((breaker_state = 'open' AND breaker_open_until <= now()) OR (breaker_state = 'half_open' AND probe_lease_until < now()))
             AND EXISTS (SELECT 1 FROM nf_delivery d WHERE d.subscription_id = nf_subscription.id
               AND (d.status = 'pending' OR (d.status = 'in_flight' AND d.lease_until < now())))
           LIMIT 16 FOR UPDATE SKIP LOCKED),
         u AS (UPDATE nf_subscription s SET breaker_state = 'half_open', probe_lease_until = now() + make_interval(secs => $1) FROM c WHERE s.id = c.id RETURNING s.id)
         SELECT id FROM u`,
        [leaseSeconds],
      );
      const out: ClaimedDelivery[] = [];
      for (const { id } of subs) {
        const rows = await q(
          `WITH picked AS (SELECT delivery_id FROM nf_delivery WHERE subscription_id = $1 AND (status = 'pending' OR (status = 'in_flight' AND lease_until < now()))
             ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED),
           claimed AS (UPDATE nf_delivery d SET status = 'in_flight', lease_until = now() + make_interval(secs => $2), attempts = d.attempts + 1, probe = true
             FROM picked WHERE d.delivery_id = picked.delivery_id RETURNING d.*)
           SELECT ${CLAIMED_COLUMNS} FROM claimed d JOIN nf_subscription s ON s.id = d.subscription_id`,
          [id, leaseSeconds],
        );
        out.push(...rows.map(toClaimed));
      }
      return out;
    });
  }

  /**
   * FOR NO KEY UPDATE, not FOR UPDATE: fan-out inserting deliveries holds the FK's KEY SHARE lock on the
   * subscription for its whole consumer transaction, and the breaker update must not wait for that.
   */
  async lockHealth(uow: UnitOfWork, subscriptionId: string): Promise<SubscriptionHealth> {
    const [r] = await uow.query<Record<string, any>>(
      'SELECT status, breaker_state, consecutive_failures, breaker_open_until, failing_since FROM nf_subscription WHERE id = $1 FOR NO KEY UPDATE', [subscriptionId], { prepared: true });
    return {
      status: r.status,
      failingSince: r.failing_since ? new Date(r.failing_since).getTime() : null,
      breaker: { state: r.breaker_state as BreakerState, consecutiveFailures: Number(r.consecutive_failures), openUntil: r.breaker_open_until ? new Date(r.breaker_open_until).getTime() : null },
    };
  }

  async saveHealth(uow: UnitOfWork, subscriptionId: string, h: { breaker: Breaker; failingSince: number | null; success: boolean }): Promise<void> {
    await uow.execute(
      `UPDATE nf_subscription SET breaker_state = $2, consecutive_failures = $3, breaker_open_until = to_timestamp($4::double precision / 1000.0),
         probe_lease_until = NULL, failing_since = to_timestamp($5::double precision / 1000.0),
         last_success_at = CASE WHEN $6 THEN now() ELSE last_success_at END, last_notified_at = CASE WHEN $6 THEN now() ELSE last_notified_at END
       WHERE id = $1`,
      [subscriptionId, h.breaker.state, h.breaker.consecutiveFailures, h.breaker.openUntil, h.failingSince, h.success],
      { prepared: true },
    );
  }

  async markHealthy(uow: UnitOfWork, subscriptionId: string): Promise<void> {
    // Rows the WHERE rejects are not locked: concurrent successes of one subscription do not serialize on it.
    // The success timestamps are not refreshed here (noteSuccess): a refresh in the attempt's transaction
    // held the subscription row through that transaction's commit, and every other attempt of the
    // subscription that saw the refresh due waited for it (7 ms per attempt, a quarter of the notifier's
    // database time in the pipeline bench).
    await uow.execute(
      `UPDATE nf_subscription SET breaker_state = 'closed', consecutive_failures = 0, breaker_open_until = NULL, probe_lease_until = NULL, failing_since = NULL,
         last_success_at = now(), last_notified_at = now()
       WHERE id = $1 AND (breaker_state <> 'closed' OR consecutive_failures <> 0 OR failing_since IS NOT NULL)`,
      [subscriptionId],
      { prepared: true },
    );
  }

  async noteSuccess(subscriptionId: string): Promise<void> {
    const now = Date.now();
    if (now - (this.successNoted.get(subscriptionId) ?? 0) < SUCCESS_NOTE_MS) return;
    this.successNoted.set(subscriptionId, now);
    if (this.successNoted.size > 10_000) this.successNoted.clear();
    // Its own short statement (autocommit): the row lock lasts one statement, not an attempt's transaction.
    await this.db.query(
      `UPDATE nf_subscription SET last_success_at = now(), last_notified_at = GREATEST(last_notified_at, now())
       WHERE id = $1 AND (last_success_at IS NULL OR last_success_at < now() - interval '1 second')`,
      [subscriptionId],
    ).catch(() => {
      // Best effort: the next success notes it again (this process forgets it noted this one).
      this.successNoted.delete(subscriptionId);
    });
  }

  async disableSubscription(uow: UnitOfWork, subscriptionId: string, reason: string): Promise<void> {
    await uow.execute(`UPDATE nf_subscription SET status = 'disabled', disabled_reason = $2, version = version + 1, updated_at = now() WHERE id = $1`, [subscriptionId, reason]);
  }

  async recordAttempts(uow: UnitOfWork, attempts: AttemptRow[]): Promise<void> {
    if (!attempts.length) return;
    await uow.execute(
      `INSERT INTO nf_attempt (delivery_id, attempt, started_at, status_code, latency_ms, error, outcome, address)
       SELECT d, a, to_timestamp(s / 1000.0), c, l, e, o, ad
         FROM unnest($1::text[], $2::int[], $3::double precision[], $4::int[], $5::int[], $6::text[], $7::text[], $8::text[]) AS t(d, a, s, c, l, e, o, ad)
       ON CONFLICT (delivery_id, attempt) DO NOTHING`,
      [
        attempts.map((a) => a.deliveryId), attempts.map((a) => a.attempt), attempts.map((a) => a.startedAt), attempts.map((a) => a.statusCode),
        attempts.map((a) => Math.round(a.latencyMs)), attempts.map((a) => a.error), attempts.map((a) => a.outcome), attempts.map((a) => a.address),
      ],
      { prepared: true },
    );
  }

  async finish(uow: UnitOfWork, deliveryId: string, status: 'delivered' | 'dead' | 'cancelled', reason: string | null, statusCode: number | null, error: string | null): Promise<void> {
    await uow.execute(
      `UPDATE nf_delivery SET status = $2, end_reason = $3, last_status = $4, last_error = $5, lease_until = NULL, probe = false, finished_at = now() WHERE delivery_id = $1`,
      [deliveryId, status, reason, statusCode, error],
    );
  }

  async finishDelivered(uow: UnitOfWork, delivered: Array<{ deliveryId: string; statusCode: number | null }>): Promise<void> {
    if (!delivered.length) return;
    await uow.execute(
      `UPDATE nf_delivery d SET status = 'delivered', end_reason = NULL, last_status = t.code, last_error = NULL, lease_until = NULL, probe = false, finished_at = now()
         FROM unnest($1::text[], $2::int[]) AS t(id, code) WHERE d.delivery_id = t.id`,
      [delivered.map((x) => x.deliveryId), delivered.map((x) => x.statusCode)],
      { prepared: true },
    );
  }

  async reschedule(uow: UnitOfWork, deliveryId: string, delayMs: number, statusCode: number | null, error: string | null): Promise<void> {
    await uow.execute(
      `UPDATE nf_delivery SET status = 'pending', lease_until = NULL, probe = false, last_status = $2, last_error = $3,
         due_at = now() + make_interval(secs => $4::double precision / 1000) WHERE delivery_id = $1`,
      [deliveryId, statusCode, error, delayMs],
    );
  }

  async markFhirActive(uow: UnitOfWork, subscriptionId: string, status: 'active' | 'error'): Promise<void> {
    await uow.execute(`UPDATE nf_subscription SET fhir = jsonb_set(fhir, '{status}', to_jsonb($2::text)), version = version + 1 WHERE id = $1 AND fhir IS NOT NULL`, [subscriptionId, status]);
  }

  /** Operator view: deliveries with every attempt (no payloads). */
  async search(f: DeliveryFilter, limit: number): Promise<Array<Record<string, unknown>>> {
    const { where, params } = filterSql(f);
    params.push(limit);
    const rows = await this.db.query(
      `SELECT d.delivery_id, d.subscription_id, d.source_event_id, d.correlation_id, d.event_type, d.tier, d.epid, d.decision_id, d.status, d.attempts,
         d.due_at, d.last_status, d.last_error, d.end_reason, d.fhir_event_number, d.created_at, d.finished_at,
         COALESCE((SELECT json_agg(json_build_object('attempt', a.attempt, 'startedAt', a.started_at, 'statusCode', a.status_code, 'latencyMs', a.latency_ms,
           'error', a.error, 'outcome', a.outcome) ORDER BY a.attempt) FROM nf_attempt a WHERE a.delivery_id = d.delivery_id), '[]') AS attempts_detail
       FROM nf_delivery d WHERE ${where} ORDER BY d.created_at DESC, d.seq DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map((r: Record<string, any>) => ({
      id: r.delivery_id, subscriptionId: r.subscription_id, sourceEventId: r.source_event_id, correlationId: r.correlation_id, type: r.event_type, tier: r.tier,
      epid: r.epid, decisionId: r.decision_id, status: r.status, attemptCount: r.attempts, nextAttemptAt: r.status === 'pending' ? r.due_at : null,
      lastStatus: r.last_status, lastError: r.last_error, reason: r.end_reason, fhirEventNumber: r.fhir_event_number === null ? null : Number(r.fhir_event_number),
      createdAt: r.created_at, finishedAt: r.finished_at, attempts: r.attempts_detail,
    }));
  }

  /** Dead (or, when asked, cancelled-by-receiver) deliveries back to pending, due now, with a fresh retry schedule. */
  async redrive(f: DeliveryFilter & { deliveryId?: string }, limit: number): Promise<string[]> {
    const { where, params } = filterSql(f);
    params.push(limit);
    const rows = await this.db.query(
      `WITH r AS (UPDATE nf_delivery SET status = 'pending', due_at = now(), attempt_base = attempts, end_reason = NULL, finished_at = NULL
         WHERE delivery_id IN (SELECT d.delivery_id FROM nf_delivery d WHERE ${where} AND d.status = 'dead' LIMIT $${params.length} FOR UPDATE SKIP LOCKED)
         RETURNING delivery_id) SELECT delivery_id FROM r`,
      params,
    );
    return rows.map((r: { delivery_id: string }) => r.delivery_id);
  }

  async statusOf(deliveryId: string): Promise<string | null> {
    const [r] = await this.db.query('SELECT status FROM nf_delivery WHERE delivery_id = $1', [deliveryId]);
    return r?.status ?? null;
  }

  /** FHIR `$events`: stored event notifications of a subscription within the window. */
  async fhirEvents(subscriptionId: string, from: number, to: number, windowMs: number): Promise<Array<{ eventNumber: number; timestamp: string; focus: string | null }>> {
    const rows = await this.db.query(
      `SELECT fhir_event_number, created_at, focus FROM nf_delivery WHERE subscription_id = $1 AND fhir_event_number BETWEEN $2 AND $3
         AND created_at >= now() - make_interval(secs => $4::double precision / 1000) ORDER BY fhir_event_number LIMIT 1000`,
      [subscriptionId, from, to, windowMs],
    );
    return rows.map((r: Record<string, any>) => ({ eventNumber: Number(r.fhir_event_number), timestamp: new Date(r.created_at).toISOString(), focus: r.focus }));
  }
}

export interface DeliveryFilter {
  deliveryId?: string;
  subscriptionId?: string;
  status?: string;
  epid?: string;
  correlationId?: string;
  since?: string;
  until?: string;
}

function filterSql(f: DeliveryFilter): { where: string; params: unknown[] } {
  const clauses: string[] = ['true'];
  const params: unknown[] = [];
  const add = (sql: string, v: unknown) => {
    params.push(v);
    clauses.push(sql.replace('?', `$${params.length}`));
  };
  if (f.deliveryId) add('d.delivery_id = ?', f.deliveryId);
  if (f.subscriptionId) add('d.subscription_id = ?', f.subscriptionId);
  if (f.status) add('d.status = ?', f.status);
  if (f.epid) add('d.epid = ?', f.epid);
  if (f.correlationId) add('d.correlation_id = ?', f.correlationId);
  if (f.since) add('d.created_at >= ?::timestamptz', f.since);
  if (f.until) add('d.created_at < ?::timestamptz', f.until);
  return { where: clauses.join(' AND '), params };
}

function toClaimed(r: Record<string, any>): ClaimedDelivery {
  return {
    deliveryId: r.delivery_id, subscriptionId: r.subscription_id, kind: r.kind, url: r.url, audience: r.audience, purposeOfUse: r.purpose_of_use,
    sourceEventId: r.source_event_id, correlationId: r.correlation_id, eventType: r.event_type, tier: r.tier as Tier, epid: r.epid, decisionId: r.decision_id,
    payload: r.payload, attempts: Number(r.attempts), attemptBase: Number(r.attempt_base), probe: Boolean(r.probe),
    receivedAt: r.received_at ? new Date(r.received_at).getTime() : null, secretSealed: r.secret_sealed, previousSecretSealed: r.previous_secret_sealed ?? null,
    fhirHeaders: (r.fhir?.headers as string[] | undefined) ?? [], revoked: r.revoked ? { reason: r.revoked_reason ?? null } : null,
  };
}

