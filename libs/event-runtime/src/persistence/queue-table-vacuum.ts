import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Autovacuum settings for a queue table: one whose rows are inserted, claimed and deleted (or
 * moved on) within seconds, so it holds few live rows and, between vacuums, many dead ones.
 *
 * Why: the relay's `ORDER BY tier_rank, id LIMIT n` scan (and a delivery claim) walks every dead
 * row the index still points at. PostgreSQL's default trigger is 50 dead rows plus 20 % of the live
 * rows, so a backlog (a re-publication of 50,000 retained rows, a flood) waits for 10,000 dead rows
 * before a vacuum; and the default cost delay makes that vacuum sleep. Measured on the pipeline
 * (3,000 mixed messages, pg_stat_statements): policy's relay fetch read 633 buffers per call over
 * 5,854 dead outbox rows; with these settings (and the embedded server's 2 s naptime) 71.
 * A fixed threshold with no scale factor, and no cost delay: vacuuming a table of a few hundred
 * live rows is cheap, so it may as well be frequent.
 */
export const QUEUE_TABLE_AUTOVACUUM = {
  autovacuum_vacuum_scale_factor: 0,
  autovacuum_vacuum_threshold: 500,
  autovacuum_vacuum_insert_scale_factor: 0,
  autovacuum_vacuum_cost_delay: 0,
} as const;

/** `ALTER TABLE … SET (…)` giving `table` the queue-table autovacuum settings. */
export function setQueueTableAutovacuum(table: string): string {
  return `ALTER TABLE ${table} SET (${Object.entries(QUEUE_TABLE_AUTOVACUUM).map(([k, v]) => `${k} = ${v}`).join(', ')})`;
}

/** `ALTER TABLE … RESET (…)`: back to the server's autovacuum defaults. */
export function resetQueueTableAutovacuum(table: string): string {
  return `ALTER TABLE ${table} RESET (${Object.keys(QUEUE_TABLE_AUTOVACUUM).join(', ')})`;
}

/** The runtime's queue table, `cm_outbox`, gets the queue-table autovacuum settings. */
export class OutboxAutovacuum1764420000000 implements MigrationInterface {
  name = 'OutboxAutovacuum1764420000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(setQueueTableAutovacuum('cm_outbox'));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(resetQueueTableAutovacuum('cm_outbox'));
  }
}
