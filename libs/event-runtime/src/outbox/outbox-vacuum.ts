import type { DataSource } from 'typeorm';
import type { Logger } from '@clinmesh/observability';

/**
 * Vacuums `cm_outbox` after every `everyRows` rows the relay removed from it, in the background.
 *
 * Why: the relay's `ORDER BY tier_rank, id LIMIT n` starts below every row it has already
 * published, so it walks their dead index entries (and, until they are marked dead, their heap
 * tuples) until a vacuum removes them. Autovacuum visits each database once per
 * `autovacuum_naptime` (60 s): at a few hundred messages a second the outbox holds thousands of
 * dead rows between visits (policy: 5,854, its fetch reading 600 buffers per call). Visiting every
 * database every 2 s instead cost 14 s of autovacuum CPU per 3,000 messages (worker start-ups and
 * analyses of every growing table; see the README), so the relay vacuums just this one table,
 * whose live part is small: a pass costs a few milliseconds.
 *
 * `SKIP_LOCKED`: a replica's relay already vacuuming makes this pass a no-op instead of a wait.
 * A failed pass is logged and changes nothing else: autovacuum still runs.
 */
export class OutboxVacuum {
  private removed = 0;
  private running: Promise<void> | null = null;
  /** Passes started (what the int-spec checks). */
  passes = 0;

  constructor(private readonly dataSource: DataSource, private readonly logger: Logger, private readonly everyRows: number) {}

  /** `rows` left cm_outbox (published and moved, or deleted): starts a pass when enough have since the last. */
  removedRows(rows: number): void {
    if (this.everyRows <= 0) return;
    this.removed += rows;
    if (this.removed < this.everyRows || this.running) return;
    this.removed = 0;
    this.passes++;
    this.running = this.dataSource.query('VACUUM (SKIP_LOCKED) cm_outbox')
      .then(() => undefined, (err) => this.logger.warn({ err: String((err as Error)?.message ?? err) }, 'outbox vacuum failed; autovacuum still runs'))
      .finally(() => { this.running = null; });
  }

  /** Waits for a pass under way (the relay's stop). */
  async idle(): Promise<void> {
    await this.running;
  }
}
