import { DataSource, QueryRunner } from 'typeorm';
import { Admin, Producer } from 'kafkajs';
import { Counter, Gauge } from 'prom-client';
import { TIERS } from '@clinmesh/topology';
import { Logger, RuntimeMetrics } from '@clinmesh/observability';
import { DEFAULT_PACING, PacingOptions, RepublishPacer } from './republish.pacer';
import { OutboxVacuum } from './outbox-vacuum';
import { WakeSignal } from '../wake-signal';
import { queryPrepared } from '../persistence/prepared-statement';
import { HandedRow, StatHandoff } from './stat-handoff';
import type { StatRelay } from './outbox.writer';

interface OutboxRow {
  id: string;
  topic: string;
  message_key: string | null;
  value: Buffer;
  headers: Record<string, string>;
  tier_rank: number;
  republish: boolean;
}

/** Advisory-lock key: one relay per service database publishes at a time, which keeps per-key order. */
const RELAY_LOCK_KEY = 0x636c6d68; // 'clmh'

/**
 * How long published outbox rows are kept (the log of record) and consumer
 * inbox entries with them. The inbox must be kept at least as long as any
 * upstream outbox, or a re-publication would have a second effect.
 */
export interface RetentionOptions {
  /** Published outbox rows younger than this (by commit time) are kept; 0 deletes on publish. */
  outboxHours: number;
  /** At most this many published rows are kept (the newest). */
  outboxRows: number;
  /** Inbox entries younger than this are kept; never less than outboxHours. */
  inboxHours: number;
  /** How often the relay prunes both. */
  pruneIntervalMs: number;
}

export const DEFAULT_RETENTION: RetentionOptions = { outboxHours: 24, outboxRows: 1_000_000, inboxHours: 48, pruneIntervalMs: 60_000 };

export interface OutboxRelayOptions {
  batchSize?: number;
  /**
   * Publish stat rows in a loop of their own, with their own producer connection (default on):
   * a stat event then never waits behind a 500-row bulk round of the main loop (its select,
   * produce and move), which under a bulk flood cost each hop ~100 ms.
   */
  statLane?: boolean;
  /** Poll interval when idle: only the fallback for rows left by a crash; commits wake the relay in-process. */
  idlePollMs?: number;
  retention?: Partial<RetentionOptions>;
  pacing?: Partial<PacingOptions>;
  /** Vacuum cm_outbox after this many rows left it (default 2,000; 0: leave it to autovacuum). See outbox-vacuum.ts. */
  vacuumEveryRows?: number;
}

/**
 * Publishes the outbox to Kafka in commit order, most urgent tier first, with
 * retries; a row leaves `cm_outbox` only after Kafka acknowledged it
 * (acks = all) and moves to `cm_outbox_published` with the cluster id, where
 * it is kept for the retention window. A crash between publish and move
 * republishes — consumers dedupe by event id.
 *
 * Meeting a cluster this database has never published to (a new cluster id:
 * the in-memory embedded cluster after every start) moves the retained rows
 * back into the outbox, flagged `republish`, with their original ids: the
 * ordinary (tier, id) order then re-publishes them tier by tier, stat first,
 * in original order per key, and new work on a tier follows that tier's
 * re-publication. While flagged rows remain, publishing is paced by the
 * downstream groups' progress (RepublishPacer).
 *
 * Stat rows have a loop of their own (`statLane`): the main loop then takes the
 * other tiers. Tiers are different topics, so per-key order is unchanged. While
 * a re-publication runs, the main loop takes every tier (stat first) and the
 * stat loop waits.
 */
export class OutboxRelay implements StatRelay {
  private running = false;
  /** Stat rows committed transactions handed over, published without selecting them back when they are all there is. */
  private readonly handoff = new StatHandoff();
  private readonly mainSignal = new WakeSignal();
  private readonly statSignal = new WakeSignal();
  private loop: Promise<void> | null = null;
  private statLoop: Promise<void> | null = null;
  private lockRunner: QueryRunner | null = null;
  private backlogTimer: NodeJS.Timeout | null = null;
  private adoptedCluster: string | null = null;
  private republishing = false;
  private pacer: RepublishPacer | null = null;
  private lastPrune = 0;
  private readonly retention: RetentionOptions;
  private readonly republished: Counter<'tier'>;
  private readonly retained: Gauge<string>;
  private readonly handedOver: Counter<string>;
  private republishStarted = 0;
  /** Topics held by pacing, left out of the next selections so other topics are not stuck behind them. */
  private held: { topics: string[]; until: number } = { topics: [], until: 0 };
  /** Vacuums cm_outbox behind the relay (its scans would otherwise walk the rows it published). */
  private readonly vacuum: OutboxVacuum;

  constructor(
    private readonly dataSource: DataSource,
    private readonly producer: Producer,
    private readonly metrics: RuntimeMetrics,
    private readonly logger: Logger,
    private readonly options: OutboxRelayOptions = {},
    private readonly cluster: {
      id: () => string;
      admin: () => Admin;
      /** Consumer groups that read a topic (the consumer directory, started by `watchConsumers`). */
      groupsFor: (topic: string) => string[];
      watchConsumers: () => Promise<void>;
    } | null = null,
    /** The stat loop's own producer (its own connection: a produce request never queues behind a bulk one). */
    private readonly statProducer: Producer | null = null,
  ) {
    const given = Object.fromEntries(Object.entries(options.retention ?? {}).filter(([, v]) => typeof v === 'number' && Number.isFinite(v)));
    const r: RetentionOptions = { ...DEFAULT_RETENTION, ...given };
    this.retention = { ...r, inboxHours: Math.max(r.inboxHours, r.outboxHours) };
    this.vacuum = new OutboxVacuum(dataSource, logger, options.vacuumEveryRows ?? 2000);
    const registers = [metrics.registry];
    this.republished = (metrics.registry.getSingleMetric('clinmesh_outbox_republished_total') as Counter<'tier'>)
      ?? new Counter({ name: 'clinmesh_outbox_republished_total', help: 'Retained outbox rows re-published to a cluster met for the first time', labelNames: ['tier'], registers });
    this.retained = (metrics.registry.getSingleMetric('clinmesh_outbox_retained') as Gauge<string>)
      ?? new Gauge({ name: 'clinmesh_outbox_retained', help: 'Published outbox rows kept for re-publication (retention window)', registers });
    this.handedOver = (metrics.registry.getSingleMetric('clinmesh_outbox_stat_handed_over_total') as Counter<string>)
      ?? new Counter({ name: 'clinmesh_outbox_stat_handed_over_total', help: 'Stat outbox rows published as their transaction handed them over, without selecting them back', registers });
  }

  get retentionOptions(): RetentionOptions {
    return this.retention;
  }

  /** True while rows moved back for a new cluster are still being re-published. */
  get isRepublishing(): boolean {
    return this.republishing;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
    if (this.statLaneOn) this.statLoop = this.runStat();
    this.backlogTimer = setInterval(() => void this.refreshBacklog(), 2000);
    this.backlogTimer.unref();
  }

  /** Wake the relay now (a transaction wrote to the outbox; `stat` when it wrote stat rows). */
  notify(tiers: 'stat' | 'other' | 'all' = 'all'): void {
    // Stat rows not handed over: the stat loop's next pass selects.
    if (tiers !== 'other') this.handoff.unaccounted();
    if (tiers !== 'other' && this.statLaneOn) this.statSignal.notify();
    // Until the stat loop is ready (lock, cluster adopted, no re-publication) the main loop takes stat rows too.
    if (tiers !== 'stat' || !this.statLaneReady) this.mainSignal.notify();
  }

  /** A ticket for handing stat rows over (StatRelay), while the stat loop publishes; else undefined. */
  ticket(): number | undefined {
    return this.statLaneReady ? this.handoff.ticket() : undefined;
  }

  /** A committed transaction's stat rows (see StatHandoff): the stat loop publishes them, selecting only if they may not be all. */
  handOver(ticket: number, rows: HandedRow[], othersWaiting: boolean): void {
    if (!this.statLaneReady) {
      this.notify('stat');
      return;
    }
    this.handoff.hand(ticket, rows, othersWaiting);
    this.statSignal.notify();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.mainSignal.notify();
    this.statSignal.notify();
    if (this.backlogTimer) clearInterval(this.backlogTimer);
    await Promise.all([this.loop, this.statLoop]);
    await this.vacuum.idle();
    if (this.lockRunner) {
      await this.lockRunner.query('SELECT pg_advisory_unlock($1)', [RELAY_LOCK_KEY]).catch(() => undefined);
      await this.lockRunner.release().catch(() => undefined);
      this.lockRunner = null;
    }
  }

  /** Rows committed but not yet published to the current cluster. */
  async pendingCount(): Promise<number> {
    const [{ n }] = await this.dataSource.query('SELECT count(*)::int AS n FROM cm_outbox');
    return n;
  }

  /** Publishes until the outbox is empty (used by graceful shutdown and tests). */
  async drain(timeoutMs = 30000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if ((await this.pendingCount()) === 0) return;
      this.notify();
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private get statLaneOn(): boolean {
    return this.options.statLane !== false && this.statProducer !== null;
  }

  /** The stat loop publishes only once this relay holds the lock and has adopted the cluster, and never during a re-publication. */
  private get statLaneReady(): boolean {
    return this.statLaneOn && this.lockRunner !== null && !this.republishing && (!this.cluster || this.adoptedCluster === this.cluster.id());
  }

  private run(): Promise<void> {
    return this.runLoop(this.mainSignal, () => this.mainPass());
  }

  /** Stat rows alone, on their own producer; the main loop hands them over once the lane is ready. */
  private runStat(): Promise<void> {
    return this.runLoop(this.statSignal, () => this.statPass());
  }

  /** One relay loop: each pass says how long to sleep after it (0: on at once); a failure backs off. */
  private async runLoop(signal: WakeSignal, pass: () => Promise<Pause>): Promise<void> {
    let failures = 0;
    while (this.running) {
      let next: Pause;
      try {
        next = await pass();
        failures = 0;
      } catch (error) {
        failures += 1;
        const delay = Math.min(5000, 100 * 2 ** Math.min(failures, 6));
        this.logger.warn({ err: errorSummary(error), delayMs: delay }, 'outbox relay publish failed; retrying');
        next = { ms: delay, evenIfNotified: true };
      }
      if (next.ms > 0) await signal.sleep(next.ms, { evenIfNotified: next.evenIfNotified });
    }
  }

  private async mainPass(): Promise<Pause> {
    const batchSize = this.options.batchSize ?? 500;
    // Another replica holds the relay: look again later (a commit's notify does not make this spin).
    if (!(await this.holdLock())) return { ms: 1000, evenIfNotified: true };
    if (this.cluster && this.adoptedCluster !== this.cluster.id()) {
      await this.adoptCluster(this.cluster.id());
      // Nothing to re-publish: the stat loop takes over stat rows (some may be left by a crash).
      if (this.statLaneReady) this.statSignal.notify();
    }
    if (Date.now() - this.lastPrune > this.retention.pruneIntervalMs) await this.prune();
    this.mainSignal.take();
    const { published, held } = await this.publishOnce(batchSize, this.statLaneReady ? 'other' : 'all', this.producer);
    if (published >= batchSize) return { ms: 0 };
    // Held by pacing: look again shortly (downstream is reading); otherwise sleep until woken.
    return held ? { ms: this.pacer?.options.refreshMs ?? 150, evenIfNotified: true } : { ms: this.options.idlePollMs ?? 1000 };
  }

  private async statPass(): Promise<Pause> {
    const batchSize = this.options.batchSize ?? 500;
    const idle = this.options.idlePollMs ?? 1000;
    // Not ready (no lock yet, or a re-publication runs: the main loop takes stat rows): wait to be
    // handed over, without spinning on the notifies of commits meanwhile.
    if (!this.statLaneReady) {
      this.handoff.clear();
      return { ms: idle, evenIfNotified: true };
    }
    this.statSignal.take();
    const { published } = await this.publishOnce(batchSize, 'stat', this.statProducer!, this.handoff.take(batchSize));
    return { ms: published >= batchSize ? 0 : idle };
  }

  private async holdLock(): Promise<boolean> {
    if (this.lockRunner) return true;
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    const [{ locked }] = await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [RELAY_LOCK_KEY]);
    if (!locked) {
      await runner.release();
      return false;
    }
    this.lockRunner = runner;
    return true;
  }

  /**
   * First time this database meets `clusterId`: move every retained row
   * published to another cluster back into the outbox (original ids, so the
   * original order), flagged for paced re-publication — in one transaction
   * with remembering the cluster. Against the same cluster it does nothing.
   */
  private async adoptCluster(clusterId: string): Promise<void> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    let moved = 0;
    try {
      await runner.startTransaction();
      const inserted = await runner.query('INSERT INTO cm_relay_clusters (cluster_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING cluster_id', [clusterId]);
      if (inserted.length) {
        const [{ n }] = await runner.query(
          `WITH back AS (
             DELETE FROM cm_outbox_published WHERE cluster_id <> $1
             RETURNING id, event_id, topic, message_key, value, headers, tier_rank, created_at)
           , ins AS (
             INSERT INTO cm_outbox (id, event_id, topic, message_key, value, headers, tier_rank, created_at, republish)
             SELECT id, event_id, topic, message_key, value, headers, tier_rank, created_at, true FROM back
             ON CONFLICT (id) DO NOTHING RETURNING 1)
           SELECT count(*)::int AS n FROM ins`,
          [clusterId],
        );
        moved = n;
        await runner.query('UPDATE cm_relay_clusters SET republished = $2 WHERE cluster_id = $1', [clusterId, moved]);
      }
      await runner.commitTransaction();
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      await runner.release();
    }
    this.adoptedCluster = clusterId;
    const [{ flagged }] = await this.dataSource.query('SELECT EXISTS (SELECT 1 FROM cm_outbox WHERE republish) AS flagged');
    this.republishing = flagged;
    if (flagged) {
      this.republishStarted = Date.now();
      this.pacer = new RepublishPacer(this.cluster!.admin, this.cluster!.groupsFor, this.logger, { ...DEFAULT_PACING, ...this.options.pacing });
      this.cluster!.watchConsumers().catch((err) => this.logger.warn({ err: errorSummary(err) }, 'consumer directory unavailable; pacing by log start only'));
      this.logger.warn({ cluster: clusterId, rows: moved }, 'met a cluster this outbox never published to: re-publishing the retained outbox, tier by tier, paced by downstream progress');
    }
  }

  /** One round: select (or take the `handed` stat rows: StatHandoff), produce, mark published. */
  private async publishOnce(batchSize: number, tiers: 'stat' | 'other' | 'all', producer: Producer, handed?: HandedRow[]): Promise<{ published: number; held: boolean }> {
    const skip = this.republishing && this.held.until > Date.now() ? this.held.topics : [];
    const [lowest, highest] = tiers === 'stat' ? [0, 0] : tiers === 'other' ? [1, TIERS.length - 1] : [0, TIERS.length - 1];
    const rows = handed
      ? handed.map((h): OutboxRow => ({ id: h.id, topic: h.topic, message_key: h.key, value: h.value, headers: h.headers, tier_rank: 0, republish: false }))
      : (await queryPrepared<OutboxRow>(
        this.dataSource,
        `SELECT id, topic, message_key, value, headers, tier_rank, republish FROM cm_outbox
          WHERE tier_rank BETWEEN $3 AND $4 AND NOT (topic = ANY($2::text[])) ORDER BY tier_rank, id LIMIT $1`,
        [batchSize, skip, lowest, highest],
      )).rows;
    if (!rows.length) {
      if (skip.length) return { published: 0, held: true };
      if (this.republishing && tiers === 'all') this.finishRepublication();
      return { published: 0, held: false };
    }
    let batch = rows;
    let held = false;
    if (this.republishing && this.pacer) {
      const sized = rows.map((r) => Object.assign(r, { bytes: r.value.length + (r.message_key?.length ?? 0) + 300 }));
      const admitted = await this.pacer.admit(sized);
      batch = admitted.admitted;
      held = admitted.held.length > 0 || skip.length > 0;
      if (admitted.held.length) this.held = { topics: [...new Set([...skip, ...admitted.held])], until: Date.now() + this.pacer.options.refreshMs };
      if (!batch.length) return { published: 0, held };
      this.pacer.observe(batch as typeof sized);
    }
    const byTopic = new Map<string, OutboxRow[]>();
    for (const row of batch) {
      const list = byTopic.get(row.topic) ?? [];
      list.push(row);
      byTopic.set(row.topic, list);
    }
    await producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic.entries()].map(([topic, list]) => ({
        topic,
        messages: list.map((r) => ({ key: r.message_key, value: r.value, headers: r.headers })),
      })),
    });
    await this.markPublished(batch.map((r) => r.id));
    // Stat rows left the outbox: hand-overs made before this may name rows this round published.
    if (batch.some((r) => r.tier_rank === 0)) this.handoff.published();
    if (handed) this.handedOver.inc(batch.length);
    this.vacuum.removedRows(batch.length);
    for (const row of batch) {
      this.metrics.produced.inc({ tier: TIERS[row.tier_rank], topic: row.topic });
      if (row.republish) this.republished.inc({ tier: TIERS[row.tier_rank] });
    }
    if (this.republishing && !skip.length && !batch.some((r) => r.republish) && batch.length === rows.length) {
      const [{ flagged }] = await this.dataSource.query('SELECT EXISTS (SELECT 1 FROM cm_outbox WHERE republish) AS flagged');
      if (!flagged) this.finishRepublication();
    }
    return { published: batch.length, held };
  }

  private finishRepublication(): void {
    this.republishing = false;
    this.pacer = null;
    this.statSignal.notify();
    this.logger.info({ cluster: this.adoptedCluster, seconds: (Date.now() - this.republishStarted) / 1000 }, 're-publication of the retained outbox complete');
  }

  /** Published: kept for the retention window with the cluster id, or deleted when retention is off. */
  private async markPublished(ids: string[]): Promise<void> {
    if (this.retention.outboxHours <= 0 || this.retention.outboxRows <= 0 || !this.cluster) {
      await queryPrepared(this.dataSource, 'DELETE FROM cm_outbox WHERE id = ANY($1::bigint[])', [ids]);
      return;
    }
    await queryPrepared(
      this.dataSource,
      `WITH moved AS (
         DELETE FROM cm_outbox WHERE id = ANY($1::bigint[])
         RETURNING id, event_id, topic, message_key, value, headers, tier_rank, created_at)
       INSERT INTO cm_outbox_published (id, event_id, topic, message_key, value, headers, tier_rank, created_at, published_at, cluster_id)
       SELECT id, event_id, topic, message_key, value, headers, tier_rank, created_at, now(), $2 FROM moved
       ON CONFLICT (id) DO UPDATE SET published_at = EXCLUDED.published_at, cluster_id = EXCLUDED.cluster_id`,
      [ids, this.cluster.id()],
    );
  }

  /** Retention: published rows past the window or beyond the row cap, inbox entries past theirs. */
  async prune(): Promise<void> {
    this.lastPrune = Date.now();
    const r = this.retention;
    await this.dataSource.query(`DELETE FROM cm_outbox_published WHERE created_at < now() - make_interval(secs => $1)`, [r.outboxHours * 3600]);
    if (r.outboxRows > 0) {
      await this.dataSource.query(
        `DELETE FROM cm_outbox_published WHERE id < (SELECT id FROM cm_outbox_published ORDER BY id DESC OFFSET $1 LIMIT 1)`,
        [r.outboxRows - 1],
      );
    }
    await this.dataSource.query(`DELETE FROM cm_inbox WHERE processed_at < now() - make_interval(secs => $1)`, [r.inboxHours * 3600]);
    const [{ n }] = await this.dataSource.query('SELECT count(*)::int AS n FROM cm_outbox_published');
    this.retained.set(n);
  }

  private async refreshBacklog(): Promise<void> {
    try {
      const counts: Array<{ tier_rank: number; n: number; age: number }> = await this.dataSource.query(
        'SELECT tier_rank, count(*)::int AS n, extract(epoch FROM now() - min(created_at))::float8 AS age FROM cm_outbox GROUP BY tier_rank',
      );
      for (const tier of TIERS) {
        this.metrics.outboxBacklog.set({ tier }, 0);
        this.metrics.outboxOldestAgeSeconds.set({ tier }, 0);
      }
      for (const c of counts) {
        this.metrics.outboxBacklog.set({ tier: TIERS[c.tier_rank] }, c.n);
        this.metrics.outboxOldestAgeSeconds.set({ tier: TIERS[c.tier_rank] }, Math.max(0, Number(c.age)));
      }
    } catch {
      // the database being briefly unavailable is reported by readiness, not here
    }
  }
}

/** How long a relay loop sleeps after a pass; `evenIfNotified`: not cut short by a notify that came before it (backoffs, waits). */
interface Pause {
  ms: number;
  evenIfNotified?: boolean;
}

export function errorSummary(error: unknown): { name?: string; code?: string; message: string } {
  const e = error as { name?: string; code?: string; message?: string };
  return { name: e?.name, code: e?.code, message: String(e?.message ?? error).slice(0, 300) };
}
