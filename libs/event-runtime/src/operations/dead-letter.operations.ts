import { DataSource } from 'typeorm';
import { Tier, isTier } from '@clinmesh/topology';
import { ClinmeshError } from '@clinmesh/errors';
import type { TierConsumer } from '../consumer/tier-consumer';

export interface DeadLetterView {
  id: string;
  consumerGroup: string;
  tier: string;
  topic: string;
  partition: number;
  offset: number;
  errorCode: string;
  errorMessage: string;
  attempts: number;
  status: 'dead' | 'redriven';
  failedAt: string;
  redrivenAt: string | null;
  lastRedriveError: string | null;
  correlationId: string | null;
}

/**
 * Lists and redrives dead letters. Redrive runs the stored original bytes
 * through the same decode → handle → commit path as the live consumer (with
 * inbox dedupe), so a redriven event's effects and outputs are exactly those
 * it would have had.
 */
export class DeadLetterOperations {
  constructor(private readonly dataSource: DataSource, private readonly consumerFor: (tier: Tier) => TierConsumer | undefined) {}

  async list(filter: { status?: string; limit?: number } = {}): Promise<DeadLetterView[]> {
    const rows = await this.dataSource.query(
      `SELECT id, consumer_group, tier, topic, partition, "offset", error_code, error_message, attempts, status, failed_at, redriven_at, last_redrive_error, headers->>'clinmesh-correlation-id' AS correlation_id
       FROM cm_dead_letters WHERE ($1::text IS NULL OR status = $1) ORDER BY failed_at DESC LIMIT $2`,
      [filter.status ?? null, Math.min(filter.limit ?? 100, 1000)],
    );
    return rows.map((r: Record<string, unknown>) => ({
      id: r.id as string, consumerGroup: r.consumer_group as string, tier: r.tier as string, topic: r.topic as string,
      partition: Number(r.partition), offset: Number(r.offset), errorCode: r.error_code as string, errorMessage: r.error_message as string,
      attempts: Number(r.attempts), status: r.status as 'dead' | 'redriven', failedAt: new Date(r.failed_at as string).toISOString(),
      redrivenAt: r.redriven_at ? new Date(r.redriven_at as string).toISOString() : null, lastRedriveError: (r.last_redrive_error as string) ?? null,
      correlationId: (r.correlation_id as string) ?? null,
    }));
  }

  async redrive(id: string): Promise<{ id: string; status: 'redriven' | 'dead'; error?: string }> {
    const rows = await this.dataSource.query('SELECT * FROM cm_dead_letters WHERE id = $1', [id]);
    const row = rows[0];
    if (!row) throw new ClinmeshError('DEAD_LETTER.NOT_FOUND', `dead letter ${id} not found`, { status: 404 });
    if (row.status === 'redriven') return { id, status: 'redriven' };
    const tier = row.tier as string;
    const consumer = isTier(tier) ? this.consumerFor(tier) : undefined;
    if (!consumer) throw new ClinmeshError('DEAD_LETTER.NO_CONSUMER', `no ${tier} consumer in this service to redrive into`, { status: 409 });
    const headers = Object.entries(row.headers as Record<string, string>).reduce<Record<string, Buffer>>((acc, [k, v]) => ({ ...acc, [k]: Buffer.from(v) }), {});
    try {
      // The inbox row written when it was dead-lettered would make the redrive a "duplicate".
      await this.dataSource.query('DELETE FROM cm_inbox WHERE consumer_group = $1 AND topic = $2 AND partition = $3 AND "offset" = $4', [row.consumer_group, row.topic, row.partition, row.offset]);
      await consumer.reprocess(row.topic, Number(row.partition), Number(row.offset), {
        key: row.message_key, value: row.value, headers, offset: String(row.offset), timestamp: String(Date.now()), attributes: 0, size: 0,
      } as never);
      await this.dataSource.query(`UPDATE cm_dead_letters SET status = 'redriven', redriven_at = now(), last_redrive_error = NULL WHERE id = $1`, [id]);
      return { id, status: 'redriven' };
    } catch (error) {
      const message = String((error as Error)?.message ?? error).slice(0, 1000);
      await this.dataSource.query('UPDATE cm_dead_letters SET last_redrive_error = $2 WHERE id = $1', [id, message]);
      // Keep it out of a second processing on replay until it succeeds.
      await this.dataSource.query(
        `INSERT INTO cm_inbox (consumer_group, event_id, topic, partition, "offset") VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
        [row.consumer_group, (row.headers as Record<string, string>)['clinmesh-event-id'] ?? `${row.topic}/${row.partition}/${row.offset}`, row.topic, row.partition, row.offset],
      );
      return { id, status: 'dead', error: message };
    }
  }

  async redriveAll(filter: { errorCode?: string } = {}): Promise<Array<{ id: string; status: string; error?: string }>> {
    const rows = await this.dataSource.query(
      `SELECT id FROM cm_dead_letters WHERE status = 'dead' AND ($1::text IS NULL OR error_code = $1) ORDER BY failed_at`,
      [filter.errorCode ?? null],
    );
    const results = [];
    for (const r of rows) results.push(await this.redrive(r.id));
    return results;
  }
}
