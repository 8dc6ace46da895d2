import { DataSource } from 'typeorm';
import type { UnitOfWork } from '@clinmesh/event-runtime';
import type { FhirSubscriptionState, Subscription, SubscriptionFilter, SubscriptionStatus } from '../../domain/subscription';
import type { NewDelivery, SubscriptionSnapshot } from '../../application/notifier.ports';
import { TIER_RANK } from '@clinmesh/topology';
import { SecretBox } from './secret-box';

/** A subscription as created: its own fields, the secret to seal, and who created it. */
export type NewSubscription = Pick<Subscription, 'id' | 'kind' | 'name' | 'url' | 'audience' | 'purposeOfUse' | 'events' | 'filter' | 'ordering' | 'fhir'> & {
  secret: string;
  createdBy: string;
};

const COLUMNS = `id, kind, name, url, audience, purpose_of_use, events, filter, ordering, status, disabled_reason, version, created_at, fhir, fhir_events,
  breaker_state, consecutive_failures, breaker_open_until, failing_since, last_success_at, previous_secret_until`;

/** Subscriptions; a short-lived snapshot serves the hot fan-out path (dropped on every change made here). */
export class SubscriptionRepository implements SubscriptionSnapshot {
  private snapshot: Subscription[] = [];
  private loadedAt = 0;

  constructor(private readonly db: DataSource, private readonly secrets: SecretBox, private readonly snapshotMs = 1000) {}

  /** Creates it (and, for FHIR, its handshake delivery) in one transaction. */
  async create(s: NewSubscription, firstDelivery?: NewDelivery): Promise<Subscription> {
    const sub = await this.db.transaction(async (m) => {
      const rows = await m.query(
        `INSERT INTO nf_subscription (id, kind, name, url, audience, purpose_of_use, events, filter, ordering, secret_sealed, fhir, created_by)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8::jsonb,$9,$10,$11::jsonb,$12) RETURNING ${COLUMNS}`,
        [s.id, s.kind, s.name, s.url, s.audience, s.purposeOfUse, s.events, JSON.stringify(s.filter), s.ordering, this.secrets.seal(s.secret), s.fhir ? JSON.stringify(s.fhir) : null, s.createdBy],
      );
      if (firstDelivery) {
        const d = firstDelivery;
        await m.query(
          `INSERT INTO nf_delivery (delivery_id, subscription_id, source_event_id, correlation_id, event_type, tier, tier_rank, payload)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8::jsonb)`,
          [d.deliveryId, d.subscriptionId, d.sourceEventId, d.correlationId, d.eventType, d.tier, TIER_RANK[d.tier], JSON.stringify(d.payload)],
        );
      }
      return rows[0];
    });
    this.loadedAt = 0;
    return toSubscription(sub);
  }

  async get(id: string, kind?: 'webhook' | 'fhir'): Promise<(Subscription & { health: Record<string, unknown> }) | null> {
    const rows = await this.db.query(`SELECT ${COLUMNS} FROM nf_subscription WHERE id = $1 AND ($2::text IS NULL OR kind = $2)`, [id, kind ?? null]);
    return rows[0] ? { ...toSubscription(rows[0]), health: health(rows[0]) } : null;
  }

  async list(kind: 'webhook' | 'fhir' | null): Promise<Array<Subscription & { health: Record<string, unknown> }>> {
    const rows = await this.db.query(`SELECT ${COLUMNS} FROM nf_subscription WHERE ($1::text IS NULL OR kind = $1) ORDER BY created_at`, [kind]);
    return rows.map((r: Record<string, unknown>) => ({ ...toSubscription(r), health: health(r) }));
  }

  /**
   * Optimistic update: applies only at `expectedVersion`; returns the new row,
   * or null when the version moved on (412) — the caller re-reads for 404.
   */
  async update(id: string, expectedVersion: number, change: { status?: SubscriptionStatus; url?: string; name?: string; filter?: SubscriptionFilter; events?: string[]; ordering?: string; resetHealth?: boolean; newSecret?: string; graceMs?: number }): Promise<Subscription | null> {
    const rows = await this.db.query(
      `UPDATE nf_subscription SET
         status = COALESCE($3, status), url = COALESCE($4, url), name = COALESCE($5, name), filter = COALESCE($6::jsonb, filter),
         events = COALESCE($7::text[], events), ordering = COALESCE($8, ordering),
         disabled_reason = CASE WHEN $3 = 'active' THEN NULL ELSE disabled_reason END,
         breaker_state = CASE WHEN $9 THEN 'closed' ELSE breaker_state END, consecutive_failures = CASE WHEN $9 THEN 0 ELSE consecutive_failures END,
         failing_since = CASE WHEN $9 THEN NULL ELSE failing_since END, breaker_open_until = CASE WHEN $9 THEN NULL ELSE breaker_open_until END,
         previous_secret_sealed = CASE WHEN $10::text IS NOT NULL THEN secret_sealed ELSE previous_secret_sealed END,
         previous_secret_until = CASE WHEN $10::text IS NOT NULL THEN now() + make_interval(secs => $11::double precision / 1000) ELSE previous_secret_until END,
         secret_sealed = COALESCE($10, secret_sealed),
         version = version + 1, updated_at = now()
       WHERE id = $1 AND version = $2 RETURNING ${COLUMNS}`,
      [id, expectedVersion, change.status ?? null, change.url ?? null, change.name ?? null, change.filter ? JSON.stringify(change.filter) : null,
        change.events ?? null, change.ordering ?? null, Boolean(change.resetHealth), change.newSecret ? this.secrets.seal(change.newSecret) : null, change.graceMs ?? 0],
    );
    this.loadedAt = 0;
    const row = Array.isArray(rows[0]) ? rows[0][0] : rows[0];
    return row ? toSubscription(row) : null;
  }

  /** Read on the consumer's own connection: a second pool connection per consumer transaction could starve the pool. */
  async forFanOut(uow: UnitOfWork): Promise<Subscription[]> {
    if (Date.now() - this.loadedAt > this.snapshotMs) {
      const rows = await uow.query<Record<string, unknown>>(`SELECT ${COLUMNS} FROM nf_subscription WHERE status IN ('active', 'paused')`);
      this.snapshot = rows.map(toSubscription);
      this.loadedAt = Date.now();
    }
    return this.snapshot;
  }

  /** FHIR subscriptions due a heartbeat: one heartbeat delivery each (idempotent per period slot). */
  async enqueueHeartbeats(build: (s: Subscription, slot: number) => NewDelivery): Promise<number> {
    const rows = await this.db.query(
      `SELECT ${COLUMNS} FROM nf_subscription WHERE kind = 'fhir' AND status = 'active' AND fhir->>'status' = 'active' AND (fhir->>'heartbeatPeriod') IS NOT NULL
         AND COALESCE(last_notified_at, created_at) + make_interval(secs => (fhir->>'heartbeatPeriod')::int) <= now()
         AND NOT EXISTS (SELECT 1 FROM nf_delivery d WHERE d.subscription_id = nf_subscription.id AND d.event_type = 'fhir.heartbeat' AND d.status IN ('pending', 'in_flight'))`,
    );
    let n = 0;
    for (const r of rows) {
      const s = toSubscription(r);
      const slot = Math.floor(Date.now() / (s.fhir!.heartbeatPeriod! * 1000));
      const d = build(s, slot);
      n += (await this.db.query(
        `WITH i AS (INSERT INTO nf_delivery (delivery_id, subscription_id, source_event_id, correlation_id, event_type, tier, tier_rank, payload)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8::jsonb) ON CONFLICT (delivery_id) DO NOTHING RETURNING 1),
         u AS (UPDATE nf_subscription SET last_notified_at = now() WHERE id = $2 RETURNING 1) SELECT count(*)::int AS n FROM i`,
        [d.deliveryId, d.subscriptionId, d.sourceEventId, d.correlationId, d.eventType, d.tier, TIER_RANK[d.tier], JSON.stringify(d.payload)],
      ))[0].n;
    }
    return n;
  }

  /** A one-off delivery (test event). */
  async enqueueOne(d: NewDelivery): Promise<void> {
    await this.db.query(
      `INSERT INTO nf_delivery (delivery_id, subscription_id, source_event_id, correlation_id, event_type, tier, tier_rank, payload)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8::jsonb) ON CONFLICT (delivery_id) DO NOTHING`,
      [d.deliveryId, d.subscriptionId, d.sourceEventId, d.correlationId, d.eventType, d.tier, TIER_RANK[d.tier], JSON.stringify(d.payload)],
    );
  }

  openSecret(sealed: string): string {
    return this.secrets.open(sealed);
  }
}

function ts(v: unknown): string | null {
  return v ? new Date(v as string).toISOString() : null;
}

function health(r: Record<string, unknown>): Record<string, unknown> {
  return {
    breaker: r.breaker_state, consecutiveFailures: Number(r.consecutive_failures), breakerOpenUntil: ts(r.breaker_open_until),
    failingSince: ts(r.failing_since), lastSuccessAt: ts(r.last_success_at), previousSecretValidUntil: ts(r.previous_secret_until),
  };
}

function toSubscription(r: Record<string, any>): Subscription {
  const fhir = r.fhir ? { ...(r.fhir as FhirSubscriptionState), eventsSinceStart: Number(r.fhir_events ?? 0) } : null;
  return {
    id: r.id, kind: r.kind, name: r.name, url: r.url, audience: r.audience, purposeOfUse: r.purpose_of_use, events: r.events, filter: r.filter,
    ordering: r.ordering, status: r.status, disabledReason: r.disabled_reason ?? null, version: Number(r.version), createdAt: new Date(r.created_at).toISOString(), fhir,
  };
}
