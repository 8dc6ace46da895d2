import { DataSource, QueryRunner } from 'typeorm';
import { Producer } from 'kafkajs';
import { TIERS } from '@clinmesh/topology';
import { Logger, RuntimeMetrics } from '@clinmesh/observability';

interface OutboxRow {
  id: string;
  topic: string;
  message_key: string | null;
  value: Buffer;
  headers: Record<string, string>;
  tier_rank: number;
}

/** Advisory-lock key: one relay per service database publishes at a time, which keeps per-key order. */
const RELAY_LOCK_KEY = 0x636c6d68; // 'clmh'

/**
 * Publishes the outbox to Kafka in commit order, most urgent tier first, with
 * retries; deletes rows only after Kafka acknowledged them (acks = all). A
 * crash between publish and delete republishes — consumers dedupe by event id.
 */
export class OutboxRelay {
  private running = false;
  private wake: (() => void) | null = null;
  private pending = false;
  private loop: Promise<void> | null = null;
  private lockRunner: QueryRunner | null = null;
  private backlogTimer: NodeJS.Timeout | null = null;
  private consecutiveFailures = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly producer: Producer,
    private readonly metrics: RuntimeMetrics,
    private readonly logger: Logger,
    private readonly options: { batchSize?: number; idlePollMs?: number } = {},
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
    this.backlogTimer = setInterval(() => void this.refreshBacklog(), 2000);
    this.backlogTimer.unref();
  }

  /** Wake the relay now (a transaction wrote to the outbox). */
  notify(): void {
    this.pending = true;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    if (this.backlogTimer) clearInterval(this.backlogTimer);
    await this.loop;
    if (this.lockRunner) {
      await this.lockRunner.query('SELECT pg_advisory_unlock($1)', [RELAY_LOCK_KEY]).catch(() => undefined);
      await this.lockRunner.release().catch(() => undefined);
      this.lockRunner = null;
    }
  }

  /** Publishes until the outbox is empty (used by graceful shutdown and tests). */
  async drain(timeoutMs = 30000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const [{ n }] = await this.dataSource.query('SELECT count(*)::int AS n FROM cm_outbox');
      if (n === 0) return;
      this.notify();
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async run(): Promise<void> {
    const batchSize = this.options.batchSize ?? 500;
    const idle = this.options.idlePollMs ?? 200;
    while (this.running) {
      try {
        if (!(await this.holdLock())) {
          await this.sleep(1000);
          continue;
        }
        const published = await this.publishOnce(batchSize);
        this.consecutiveFailures = 0;
        if (published < batchSize) {
          if (!this.pending) await this.sleep(idle);
          this.pending = false;
        }
      } catch (error) {
        this.consecutiveFailures += 1;
        const delay = Math.min(5000, 100 * 2 ** Math.min(this.consecutiveFailures, 6));
        this.logger.warn({ err: errorSummary(error), delayMs: delay }, 'outbox relay publish failed; retrying');
        await this.sleep(delay);
      }
    }
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

  private async publishOnce(batchSize: number): Promise<number> {
    const rows: OutboxRow[] = await this.dataSource.query(
      'SELECT id, topic, message_key, value, headers, tier_rank FROM cm_outbox ORDER BY tier_rank, id LIMIT $1',
      [batchSize],
    );
    if (!rows.length) return 0;
    const byTopic = new Map<string, OutboxRow[]>();
    for (const row of rows) {
      const list = byTopic.get(row.topic) ?? [];
      list.push(row);
      byTopic.set(row.topic, list);
    }
    await this.producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic.entries()].map(([topic, list]) => ({
        topic,
        messages: list.map((r) => ({ key: r.message_key, value: r.value, headers: r.headers })),
      })),
    });
    await this.dataSource.query('DELETE FROM cm_outbox WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
    for (const row of rows) this.metrics.produced.inc({ tier: TIERS[row.tier_rank], topic: row.topic });
    return rows.length;
  }

  private async refreshBacklog(): Promise<void> {
    try {
      const counts: Array<{ tier_rank: number; n: number }> = await this.dataSource.query(
        'SELECT tier_rank, count(*)::int AS n FROM cm_outbox GROUP BY tier_rank',
      );
      for (const tier of TIERS) this.metrics.outboxBacklog.set({ tier }, 0);
      for (const c of counts) this.metrics.outboxBacklog.set({ tier: TIERS[c.tier_rank] }, c.n);
    } catch {
      // the database being briefly unavailable is reported by readiness, not here
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.wake = null; resolve(); }, ms);
      this.wake = () => { clearTimeout(t); this.wake = null; resolve(); };
    });
  }
}

export function errorSummary(error: unknown): { name?: string; code?: string; message: string } {
  const e = error as { name?: string; code?: string; message?: string };
  return { name: e?.name, code: e?.code, message: String(e?.message ?? error).slice(0, 300) };
}
