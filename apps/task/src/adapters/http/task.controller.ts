import { Controller, Get, Inject, Query, Req } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ClinmeshError } from '@clinmesh/errors';
import { AuditTrail, Principal, SCOPES } from '@clinmesh/security';
import { AUDIT_TRAIL, DATA_SOURCE, RequireScopes } from '@clinmesh/service-kit';
import { findTasks } from '../persistence/task.repository';

/** The worklist: GET /v1/tasks?patient=&status=&correlationId=&workflow=&limit= (an audited patient-data read). */
@Controller('v1/tasks')
export class TaskController {
  constructor(@Inject(DATA_SOURCE) private readonly db: DataSource, @Inject(AUDIT_TRAIL) private readonly audit: AuditTrail) {}

  @RequireScopes(SCOPES.tasksRead)
  @Get()
  async list(
    @Req() req: { principal: Principal; headers: Record<string, string | undefined> },
    @Query('patient') patient?: string,
    @Query('status') status?: string,
    @Query('correlationId') correlationId?: string,
    @Query('workflow') workflow?: string,
    @Query('limit') limit?: string,
  ) {
    const n = limit === undefined ? 100 : Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw new ClinmeshError('TASK.INVALID_LIMIT', 'limit must be an integer between 1 and 1000', { status: 400 });
    if (status && !['open', 'in-progress', 'completed', 'cancelled'].includes(status)) throw new ClinmeshError('TASK.INVALID_STATUS', 'status must be open, in-progress, completed or cancelled', { status: 400 });
    const tasks = await findTasks(this.db, { epid: patient, status, correlationId, workflow, limit: n });
    await this.audit.record({
      actor: req.principal.subject, action: 'list-tasks', resource: 'tasks', patientRef: patient ?? null,
      purpose: req.headers['x-purpose-of-use'] ?? null, outcome: 'allowed', details: { filter: { status, correlationId, workflow }, returned: tasks.length },
    });
    return { tasks: tasks.map((t) => ({ ...t, dueAt: new Date(t.dueAt).toISOString(), createdAt: new Date(t.createdAt).toISOString() })) };
  }
}
