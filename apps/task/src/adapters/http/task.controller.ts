import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ClinmeshError } from '@clinmesh/errors';
import { AuditTrail, Principal, SCOPES } from '@clinmesh/security';
import { AUDIT_TRAIL, IfMatchErrors, RequireScopes, ifMatchVersion } from '@clinmesh/service-kit';
import { TIERS, Tier } from '@clinmesh/topology';
import { AcknowledgeTaskHandler, RecordFeedbackHandler, TransitionTaskHandler } from '../../application/change-task.handlers';
import { Task } from '../../domain/task';
import { TaskReader } from '../../domain/task.ports';
import { TASK_ERRORS, invalidRequest, taskNotFound } from '../../domain/task.errors';
import { Actor } from '../../domain/workflow/workflow.machine';
import { TaskConfig } from '../../config/task.config';
import { ACKNOWLEDGE_TASK, RECORD_FEEDBACK, TASK_CONFIG, TASK_READER, TRANSITION_TASK } from './task.tokens';
import { historyView, taskView } from './task.view';

type Request = { principal: Principal; headers: Record<string, string | undefined> };
type Response = { setHeader(name: string, value: string): void };

const FHIR_STATUSES = ['draft', 'requested', 'received', 'accepted', 'rejected', 'ready', 'cancelled', 'in-progress', 'on-hold', 'failed', 'completed', 'entered-in-error'];

/** `If-Match: "3"` (or W/"3", or 3) → 3; required on every write. */
const TASK_IF_MATCH: IfMatchErrors = {
  missing: () => new ClinmeshError(TASK_ERRORS.preconditionRequired, 'If-Match with the task version (its ETag) is required', { status: 428 }),
  malformed: (raw) => invalidRequest(`If-Match must be the task's ETag, e.g. "3" (got ${raw})`),
};
const ifMatch = (req: Request): number => ifMatchVersion(req.headers['if-match'], TASK_IF_MATCH);

/** A token's audience claim is the role its holder acts in; internal clients without one may act in every role. */
const actorOf = (req: Request): Actor => ({ subject: req.principal.subject, roles: req.principal.audience ? [req.principal.audience] : null });

function encodeCursor(t: Task): string {
  return Buffer.from(JSON.stringify([t.createdAt, t.taskId])).toString('base64url');
}
function decodeCursor(c: string): { createdAt: number; taskId: string } {
  try {
    const [createdAt, taskId] = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'));
    if (typeof createdAt === 'number' && typeof taskId === 'string') return { createdAt, taskId };
  } catch { /* fall through */ }
  throw invalidRequest('cursor is not one this API issued');
}

/** The worklist and the task changes (every route authenticates, checks its scope; patient data reads and writes are audited). */
@Controller('v1')
export class TaskController {
  constructor(
    @Inject(TASK_READER) private readonly reader: TaskReader,
    @Inject(TRANSITION_TASK) private readonly transitions: TransitionTaskHandler,
    @Inject(ACKNOWLEDGE_TASK) private readonly acknowledgements: AcknowledgeTaskHandler,
    @Inject(RECORD_FEEDBACK) private readonly feedback: RecordFeedbackHandler,
    @Inject(TASK_CONFIG) private readonly config: TaskConfig,
    @Inject(AUDIT_TRAIL) private readonly audit: AuditTrail,
  ) {}

  /** `GET /v1/tasks?status=&state=&workflow=&tier=&owner=&role=&patient=&correlationId=&dueBefore=&breached=&cursor=&limit=` */
  @RequireScopes(SCOPES.tasksRead)
  @Get('tasks')
  async list(@Req() req: Request, @Query() q: Record<string, string | undefined>) {
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ClinmeshError('TASK.INVALID_LIMIT', 'limit must be an integer between 1 and 1000', { status: 400 });
    const status = q.status ? q.status.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
    if (status?.some((s) => !FHIR_STATUSES.includes(s))) throw new ClinmeshError('TASK.INVALID_STATUS', `status must be FHIR Task statuses (${FHIR_STATUSES.join(', ')}), comma-separated`, { status: 400 });
    if (q.tier && !(TIERS as readonly string[]).includes(q.tier)) throw invalidRequest(`tier must be one of ${TIERS.join(', ')}`);
    if (q.breached && q.breached !== 'true' && q.breached !== 'false') throw invalidRequest('breached must be true or false');
    let dueBefore: number | undefined;
    if (q.dueBefore) {
      dueBefore = Date.parse(q.dueBefore);
      if (Number.isNaN(dueBefore)) throw invalidRequest('dueBefore must be an ISO 8601 date-time');
    }
    const tasks = await this.reader.list({
      status, state: q.state, workflow: q.workflow, tier: q.tier as Tier | undefined, owner: q.owner, role: q.role, epid: q.patient, correlationId: q.correlationId,
      dueBefore, breached: q.breached === undefined ? undefined : q.breached === 'true', cursor: q.cursor ? decodeCursor(q.cursor) : undefined, limit,
    });
    await this.audit.record({
      actor: req.principal.subject, action: 'list-tasks', resource: 'tasks', patientRef: q.patient ?? null, purpose: req.headers['x-purpose-of-use'] ?? null, outcome: 'allowed',
      details: { filter: { status: q.status, state: q.state, workflow: q.workflow, tier: q.tier, owner: q.owner, role: q.role, dueBefore: q.dueBefore, breached: q.breached }, returned: tasks.length },
    });
    return { tasks: tasks.map(taskView), next: tasks.length === limit ? encodeCursor(tasks[tasks.length - 1]) : null };
  }

  @RequireScopes(SCOPES.tasksRead)
  @Get('tasks/:id')
  async get(@Req() req: Request, @Res({ passthrough: true }) res: Response, @Param('id') id: string) {
    const found = await this.reader.withHistory(id);
    await this.audit.record({
      actor: req.principal.subject, action: 'read-task', resource: `task/${id}`, patientRef: found?.task.epid || null, purpose: req.headers['x-purpose-of-use'] ?? null, outcome: found ? 'allowed' : 'error',
    });
    if (!found) throw taskNotFound(id);
    res.setHeader('ETag', `"${found.task.version}"`);
    return { ...taskView(found.task), history: found.history.map(historyView) };
  }

  /** `POST /v1/tasks/{id}/transitions` `{ "to": "<state>", ...fields }` with `If-Match`. */
  @RequireScopes(SCOPES.tasksWrite)
  @Post('tasks/:id/transitions')
  @HttpCode(200)
  async transition(@Req() req: Request, @Res({ passthrough: true }) res: Response, @Param('id') id: string, @Body() body: Record<string, unknown>) {
    const { to, ...fields } = (body ?? {}) as { to?: unknown } & Record<string, unknown>;
    const task = await this.transitions.handle({ taskId: id, ifMatch: ifMatch(req), actor: actorOf(req), to: to as string, fields });
    return this.written(req, res, task, 'transition-task', { to });
  }

  /** `POST /v1/tasks/{id}/acknowledge` `{ "method": "phone", "receivedBy"?, "receivedAt"?, "communicatedBy"?, "readBack"? }` with `If-Match`. */
  @RequireScopes(SCOPES.tasksWrite)
  @Post('tasks/:id/acknowledge')
  @HttpCode(200)
  async acknowledge(@Req() req: Request, @Res({ passthrough: true }) res: Response, @Param('id') id: string, @Body() body: Record<string, unknown>) {
    const b = body ?? {};
    const receivedAt = b.receivedAt === undefined ? undefined : Date.parse(String(b.receivedAt));
    if (receivedAt !== undefined && Number.isNaN(receivedAt)) throw invalidRequest('receivedAt must be an ISO 8601 date-time');
    const version = ifMatch(req);
    if (typeof b.method !== 'string' || !b.method.trim()) throw new ClinmeshError(TASK_ERRORS.missingField, 'acknowledgement requires the field "method" (phone, in-person, secure-message, page ...)', { status: 422, details: { field: 'method' } });
    const task = await this.acknowledgements.handle({
      taskId: id, ifMatch: version, actor: actorOf(req), method: b.method, receivedBy: typeof b.receivedBy === 'string' ? b.receivedBy : undefined, receivedAt,
      communicatedBy: typeof b.communicatedBy === 'string' ? b.communicatedBy : undefined, readBack: b.readBack === true,
    });
    return this.written(req, res, task, 'acknowledge-task', { method: b.method });
  }

  /** `POST /v1/tasks/{id}/feedback` `{ "action": "acknowledge|dismiss|defer|escalate", "reason": "...", "deferUntil"? }` with `If-Match`. */
  @RequireScopes(SCOPES.tasksWrite)
  @Post('tasks/:id/feedback')
  @HttpCode(200)
  async recordFeedback(@Req() req: Request, @Res({ passthrough: true }) res: Response, @Param('id') id: string, @Body() body: Record<string, unknown>) {
    const b = body ?? {};
    const deferUntil = b.deferUntil === undefined ? undefined : Date.parse(String(b.deferUntil));
    const task = await this.feedback.handle({ taskId: id, ifMatch: ifMatch(req), actor: actorOf(req), action: String(b.action ?? ''), reason: b.reason as string, deferUntil });
    return this.written(req, res, task, 'task-feedback', { action: b.action });
  }

  /** The loaded workflows (states with their FHIR status, transitions, SLAs, ladders). */
  @RequireScopes(SCOPES.tasksRead)
  @Get('workflows')
  workflows() {
    return { workflows: this.config.catalog.definitions, calendar: this.config.calendar };
  }

  private async written(req: Request, res: Response, task: Task, action: string, details: Record<string, unknown>) {
    await this.audit.record({
      actor: req.principal.subject, action, resource: `task/${task.taskId}`, patientRef: task.epid || null, purpose: req.headers['x-purpose-of-use'] ?? null, outcome: 'allowed',
      details: { ...details, version: task.version, state: task.state },
    });
    res.setHeader('ETag', `"${task.version}"`);
    return taskView(task);
  }
}
