import type { INestApplication } from '@nestjs/common';
import type { LineageContributor, LineageItem, ServiceContext } from '@clinmesh/service-kit';
import { lineageTime } from '@clinmesh/service-kit';

/** Ingest's part of GET /v1/lineage/{correlationId} (correlation id = message id): the source message, raw, with the ACK sent. */
export function ingestLineage(_app: INestApplication, ctx: ServiceContext): LineageContributor {
  return {
    async contribute(correlationId: string): Promise<LineageItem[]> {
      const rows: Array<Record<string, unknown>> = await ctx.dataSource.query(
        'SELECT message_id, sender, control_id, format, channel, message_type, tier, triage_rule, received_at, raw, ack, status FROM in_message WHERE message_id = $1',
        [correlationId],
      );
      return rows.map((m) => ({
        kind: 'source-message', id: String(m.message_id), at: lineageTime(m.received_at),
        summary: `${m.format} ${m.message_type} from ${m.sender} (control id ${m.control_id}) → ${m.tier}`,
        data: {
          sender: m.sender, controlId: m.control_id, format: m.format, channel: m.channel, messageType: m.message_type, tier: m.tier,
          triageRule: m.triage_rule, status: m.status, ack: m.ack, raw: Buffer.isBuffer(m.raw) ? (m.raw as Buffer).toString('utf8') : String(m.raw ?? ''),
        },
      }));
    },
  };
}
