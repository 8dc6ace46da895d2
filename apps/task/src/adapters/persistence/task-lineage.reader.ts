import type { INestApplication } from '@nestjs/common';
import type { LineageContributor, LineageItem, ServiceContext } from '@clinmesh/service-kit';
import { lineageTime } from '@clinmesh/service-kit';

/** Task's part of GET /v1/lineage/{correlationId}: the tasks opened for the message, each with its history. */
export function taskLineage(_app: INestApplication, ctx: ServiceContext): LineageContributor {
  return {
    async contribute(correlationId: string): Promise<LineageItem[]> {
      const tasks: Array<Record<string, unknown>> = await ctx.dataSource.query(
        'SELECT task_id, workflow, status, tier, epid, title, due_at, created_at, version FROM tk_task WHERE correlation_id = $1 ORDER BY created_at',
        [correlationId],
      );
      if (!tasks.length) return [];
      const history: Array<Record<string, unknown>> = await ctx.dataSource.query(
        'SELECT task_id, seq, at, actor, from_state, to_state, action, reason FROM tk_task_history WHERE task_id = ANY($1) ORDER BY task_id, seq',
        [tasks.map((t) => t.task_id)],
      );
      return tasks.map((t) => ({
        kind: 'task', id: String(t.task_id), at: lineageTime(t.created_at), epid: (t.epid as string) ?? null,
        summary: `${t.workflow}: ${t.title} — ${t.status} (${t.tier}, due ${lineageTime(t.due_at)})`,
        data: {
          workflow: t.workflow, status: t.status, tier: t.tier, title: t.title, dueAt: lineageTime(t.due_at), version: Number(t.version),
          history: history.filter((h) => h.task_id === t.task_id).map((h) => ({
            seq: Number(h.seq), at: lineageTime(h.at), actor: h.actor, from: h.from_state, to: h.to_state, action: h.action, reason: h.reason,
          })),
        },
      }));
    },
  };
}
