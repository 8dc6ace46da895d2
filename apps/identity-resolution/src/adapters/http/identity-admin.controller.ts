import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { AuditTrail, Principal, SCOPES } from '@clinmesh/security';
import { AUDIT_TRAIL, DATA_SOURCE, RequireScopes } from '@clinmesh/service-kit';
import type { BlockingKeyRebuildJobs } from '../../application/blocking-key-rebuild.jobs';
import { MasterPatientIndex } from '../../application/master-patient-index';
import { MatchParameterCommands, type IndexTransaction } from '../../application/match-parameters.commands';
import { InvalidRequestError, keyRebuildLocation } from '../../domain/identity.errors';
import { parameterSetView } from '../../domain/parameter-set.model';
import { readIndex } from './identity-request.transaction';
import { KEY_REBUILD_JOBS, MASTER_PATIENT_INDEX } from './identity-resolution.tokens';

type Req = { principal: Principal; headers: Record<string, string | undefined> };

/**
 * Operator commands of the matcher, never silent:
 * - POST /v1/admin/identity/name-frequencies/refresh counts the index's names into a new versioned
 *   snapshot; replicas pick it up within a minute; explanations name the version they used.
 * - POST /v1/admin/identity/parameters/estimate `{ source? }` estimates m/u by EM (per source or all
 *   sources) into a new versioned set, status `estimated` (422 when too thin or unsafe);
 *   POST /v1/admin/identity/parameters/{version}/activate makes it the source's active set;
 *   POST /v1/admin/identity/parameters/{version}/retire retires a set (the source falls back);
 *   GET /v1/admin/identity/parameters lists the sets, the active one per source and the default.
 * - POST /v1/admin/identity/blocking-keys/rebuild starts re-deriving every stored record's blocking keys with
 *   the key scheme in force (after a release that adds a key kind; links and persons are untouched) as a
 *   background job: 202 with the job and its Location, 409 while one runs;
 *   GET /v1/admin/identity/blocking-keys/rebuilds/{id} follows it (progress, state, how it ended);
 *   GET /v1/admin/identity/blocking-keys/rebuilds lists the newest 20, newest first.
 */
@Controller('v1/admin/identity')
export class IdentityAdminController {
  private readonly parameters: MatchParameterCommands;
  private readonly tx: IndexTransaction;

  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(AUDIT_TRAIL) private readonly audit: AuditTrail,
    @Inject(MASTER_PATIENT_INDEX) private readonly index: MasterPatientIndex,
    @Inject(KEY_REBUILD_JOBS) private readonly rebuilds: BlockingKeyRebuildJobs,
  ) {
    this.parameters = new MatchParameterCommands(index);
    this.tx = (work) => readIndex(this.db, work);
  }

  @RequireScopes(SCOPES.adminOperate)
  @Post('name-frequencies/refresh')
  @HttpCode(200)
  async refreshNameFrequencies(@Req() req: Req) {
    const snapshot = await this.tx((repo) => this.index.refreshFrequencies(repo));
    await this.record(req, 'refresh-name-frequencies', 'allowed', snapshot);
    return { ...snapshot, parametersVersion: this.index.config.version };
  }

  @RequireScopes(SCOPES.adminOperate)
  @Post('blocking-keys/rebuild')
  @HttpCode(202)
  async rebuildBlockingKeys(@Req() req: Req, @Res({ passthrough: true }) res: Response) {
    try {
      const job = await this.rebuilds.start(req.principal.subject);
      await this.record(req, 'rebuild-blocking-keys', 'allowed', { job: job.id });
      res.setHeader('Location', keyRebuildLocation(job.id));
      return job;
    } catch (error) {
      await this.record(req, 'rebuild-blocking-keys', 'error', { code: (error as { code?: string }).code ?? 'ERROR' });
      throw error;
    }
  }

  @RequireScopes(SCOPES.adminOperate)
  @Get('blocking-keys/rebuilds')
  async rebuildJobs() {
    return { jobs: await this.rebuilds.recent() };
  }

  @RequireScopes(SCOPES.adminOperate)
  @Get('blocking-keys/rebuilds/:id')
  rebuildJob(@Param('id') id: string) {
    return this.rebuilds.get(id);
  }

  @RequireScopes(SCOPES.adminOperate)
  @Post('parameters/estimate')
  @HttpCode(201)
  async estimateParameters(@Req() req: Req, @Body() body: { source?: unknown } | undefined, @Res({ passthrough: true }) res: Response) {
    const source = body?.source;
    if (source !== undefined && source !== null && (typeof source !== 'string' || !source.trim() || source.length > 200)) {
      throw new InvalidRequestError('IDENTITY.PARAMETERS.INVALID_SOURCE', 'source must be a non-empty source system name (at most 200 characters), or absent for all sources');
    }
    const sourceSystem = typeof source === 'string' ? source : null;
    try {
      const set = await this.parameters.estimate(this.tx, sourceSystem, req.principal.subject);
      await this.record(req, 'estimate-match-parameters', 'allowed', { version: set.version, sourceSystem, records: set.records });
      res.setHeader('ETag', `"${set.revision}"`);
      return parameterSetView(set);
    } catch (error) {
      await this.record(req, 'estimate-match-parameters', 'error', { sourceSystem, code: (error as { code?: string }).code ?? 'ERROR' });
      throw error;
    }
  }

  @RequireScopes(SCOPES.adminOperate)
  @Post('parameters/:version/activate')
  @HttpCode(200)
  async activateParameters(@Req() req: Req, @Param('version') version: string, @Headers('if-match') ifMatch: string | undefined, @Res({ passthrough: true }) res: Response) {
    const expected = ifMatch === undefined ? undefined : parseEtag(ifMatch);
    if (expected !== undefined && !Number.isInteger(expected)) throw new InvalidRequestError('IDENTITY.PARAMETERS.INVALID_REVISION', 'If-Match must be the ETag of GET /v1/admin/identity/parameters/{version}');
    try {
      const { activated, retired } = await this.parameters.activate(this.tx, version, req.principal.subject, expected);
      await this.record(req, 'activate-match-parameters', 'allowed', { version, sourceSystem: activated.sourceSystem, retired });
      res.setHeader('ETag', `"${activated.revision}"`);
      return { ...parameterSetView(activated), retired };
    } catch (error) {
      await this.record(req, 'activate-match-parameters', 'error', { version, code: (error as { code?: string }).code ?? 'ERROR' });
      throw error;
    }
  }

  @RequireScopes(SCOPES.adminOperate)
  @Post('parameters/:version/retire')
  @HttpCode(200)
  async retireParameters(@Req() req: Req, @Param('version') version: string, @Headers('if-match') ifMatch: string | undefined, @Res({ passthrough: true }) res: Response) {
    const expected = ifMatch === undefined ? undefined : parseEtag(ifMatch);
    if (expected !== undefined && !Number.isInteger(expected)) throw new InvalidRequestError('IDENTITY.PARAMETERS.INVALID_REVISION', 'If-Match must be the ETag of GET /v1/admin/identity/parameters/{version}');
    try {
      const retired = await this.parameters.retire(this.tx, version, req.principal.subject, expected);
      await this.record(req, 'retire-match-parameters', 'allowed', { version, sourceSystem: retired.sourceSystem });
      res.setHeader('ETag', `"${retired.revision}"`);
      return parameterSetView(retired);
    } catch (error) {
      await this.record(req, 'retire-match-parameters', 'error', { version, code: (error as { code?: string }).code ?? 'ERROR' });
      throw error;
    }
  }

  @RequireScopes(SCOPES.adminOperate)
  @Get('parameters')
  async listParameters() {
    const { sets, active } = await this.parameters.list(this.tx);
    return {
      default: { version: this.index.config.version, thresholds: this.index.config.thresholds },
      active: active.map((a) => ({ sourceSystem: a.sourceSystem, version: a.version, activatedAt: a.activatedAt, activatedBy: a.activatedBy })),
      sets: sets.map((s) => {
        const { comparisons: _levels, ...summary } = parameterSetView(s);
        return summary;
      }),
    };
  }

  @RequireScopes(SCOPES.adminOperate)
  @Get('parameters/:version')
  async getParameters(@Param('version') version: string, @Res({ passthrough: true }) res: Response) {
    const set = await this.parameters.get(this.tx, version);
    res.setHeader('ETag', `"${set.revision}"`);
    return parameterSetView(set);
  }

  private record(req: Req, action: string, outcome: 'allowed' | 'error', details: Record<string, unknown>): Promise<void> {
    return this.audit.record({
      actor: req.principal.subject, action, resource: 'identity-matcher', patientRef: null, purpose: req.headers['x-purpose-of-use'] ?? null, outcome, details,
    });
  }
}

/** `"3"`, `W/"3"` or `3` → 3; anything else → NaN (answered 400). */
function parseEtag(value: string): number {
  const m = /^(?:W\/)?"?(\d+)"?$/.exec(value.trim());
  return m ? Number(m[1]) : Number.NaN;
}
