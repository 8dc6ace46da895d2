import { CONSOLE_SERVICES, ConsoleService } from '../config/console.config';
import { Caller, ServiceClient } from '../adapters/services/service-client';
import { hl7View, maskPatientData } from '../domain/masking';

export type LineageQueryKind = 'control' | 'correlation' | 'event' | 'patient';

/** The six stages of the backbone, in order, and the service that owns each. */
export const STAGES: Array<{ stage: string; service: ConsoleService }> = [
  { stage: 'ingest', service: 'ingest' },
  { stage: 'identity', service: 'identity-resolution' },
  { stage: 'normalization', service: 'normalization' },
  { stage: 'policy', service: 'policy' },
  { stage: 'task', service: 'task' },
  { stage: 'delivery', service: 'notifier' },
];

export interface Reveal {
  purpose: string;
}

/**
 * Composes a message's whole path from every service's
 * `GET /v1/lineage/{correlationId}` (no service's tables are read), and
 * resolves the search (control id via ingest, event id via each service's
 * outbox, patient identifier via identity-resolution → tasks and decisions).
 * Patient identifiers are masked unless revealed with a purpose of use; the
 * purpose goes to every service in X-Purpose-Of-Use, where the read is audited.
 */
export class LineageComposer {
  constructor(private readonly client: ServiceClient) {}

  async resolve(kind: LineageQueryKind, q: string, caller: Caller, purpose?: string): Promise<{ correlationIds: string[]; notes: string[] }> {
    const notes: string[] = [];
    const headers = purpose ? { 'x-purpose-of-use': purpose } : undefined;
    if (kind === 'correlation') return { correlationIds: [q], notes };
    if (kind === 'control') {
      const r = await this.client.call('ingest', 'GET', `/v1/messages?${new URLSearchParams({ controlId: q })}`, caller, { headers });
      if (!r.ok) return { correlationIds: [], notes: [`ingest: ${problemText(r)}`] };
      return { correlationIds: (r.body.messages as Array<{ messageId: string }>).map((m) => m.messageId), notes };
    }
    if (kind === 'event') {
      const found = new Set<string>();
      await Promise.all(CONSOLE_SERVICES.map(async (s) => {
        const r = await this.client.call(s, 'GET', `/v1/lineage/events/${encodeURIComponent(q)}`, caller, { headers });
        if (r.ok && r.body?.correlationId) found.add(r.body.correlationId);
        else if (r.status !== 404) notes.push(`${s}: ${problemText(r)}`);
      }));
      return { correlationIds: [...found], notes };
    }
    // patient: identifier "system|value" → EPIDs (identity audits the search) → their tasks' and decisions' correlation ids.
    const persons = await this.client.call('identity-resolution', 'GET', `/v1/persons?${new URLSearchParams({ identifier: q })}`, caller, { headers });
    if (!persons.ok) return { correlationIds: [], notes: [`identity-resolution: ${problemText(persons)}`] };
    const found = new Set<string>();
    for (const p of persons.body.persons as Array<{ epid: string }>) {
      const tasks = await this.client.call('task', 'GET', `/v1/tasks?${new URLSearchParams({ patient: p.epid, limit: '200' })}`, caller, { headers });
      if (tasks.ok) for (const t of tasks.body.tasks as Array<{ correlationId: string }>) found.add(t.correlationId);
      else notes.push(`task: ${problemText(tasks)}`);
    }
    return { correlationIds: [...found], notes };
  }

  async compose(correlationId: string, caller: Caller, reveal?: Reveal) {
    const headers: Record<string, string> = reveal ? { 'x-purpose-of-use': reveal.purpose } : {};
    const answers = await Promise.all(STAGES.map(async ({ stage, service }) => ({ stage, service, reply: await this.client.call(service, 'GET', `/v1/lineage/${encodeURIComponent(correlationId)}`, caller, { headers }) })));
    // Second pass for the consumed-only side (a stage that consumed but emitted nothing, e.g. a webhook-only delivery).
    const eventIds = answers.flatMap((a) => (a.reply.ok ? (a.reply.body.emitted as Array<{ eventId: string }>).map((e) => e.eventId) : []));
    const stages = answers.map(({ stage, service, reply }) => {
      if (!reply.ok) return { stage, service, available: false, problem: problemText(reply), emitted: [], consumed: [], deadLetters: [], items: [] };
      const body = reply.body as { emitted: Array<Record<string, unknown>>; consumed: unknown[]; deadLetters: unknown[]; items: Array<Record<string, unknown>> };
      const times = [
        ...body.emitted.flatMap((e) => [e.consumedAt, e.createdAt, e.publishedAt]),
        ...body.items.map((i) => i.at),
      ].filter((t): t is string => typeof t === 'string').map((t) => Date.parse(t)).filter(Number.isFinite);
      return {
        stage, service, available: true,
        startedAt: times.length ? new Date(Math.min(...times)).toISOString() : null,
        finishedAt: times.length ? new Date(Math.max(...times)).toISOString() : null,
        emitted: body.emitted, consumed: body.consumed, deadLetters: body.deadLetters, items: body.items,
      };
    });
    void eventIds;
    const ingest = stages[0].items.find((i) => (i as { kind?: string }).kind === 'source-message') as { data?: { raw?: string; format?: string } } | undefined;
    const raw = ingest?.data?.raw ?? null;
    const source = raw === null ? null : {
      format: ingest?.data?.format ?? null,
      raw,
      segments: ingest?.data?.format === 'HL7V2' || raw.startsWith('MSH') ? hl7View(raw, !!reveal) : null,
      json: raw.trim().startsWith('{') ? safeParse(raw) : null,
    };
    const result = { correlationId, revealed: reveal ? { purpose: reveal.purpose } : null, source, stages };
    if (reveal) return result;
    const masked = maskPatientData({ ...result, source: source ? { ...source, segments: null } : null }) as typeof result;
    if (masked.source && source) masked.source.segments = source.segments;
    return masked;
  }
}

export function problemText(r: { status: number; body: any; service?: string }): string {
  if (r.status === 0) return 'not available';
  if (r.status === 404) return 'not available (404)';
  const b = r.body ?? {};
  return `${r.status} ${b.code ?? b.title ?? ''} ${b.detail ?? ''}`.trim();
}

function safeParse(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}
