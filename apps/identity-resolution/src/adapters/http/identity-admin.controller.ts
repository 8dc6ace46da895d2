import { Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { inTransaction } from '@clinmesh/event-runtime';
import { AuditTrail, Principal, SCOPES } from '@clinmesh/security';
import { AUDIT_TRAIL, DATA_SOURCE, RequireScopes } from '@clinmesh/service-kit';
import { MasterPatientIndex } from '../../application/master-patient-index';
import { PersonIndexRepository } from '../persistence/person-index.repository';
import { MASTER_PATIENT_INDEX } from './identity-resolution.tokens';

type Req = { principal: Principal; headers: Record<string, string | undefined> };

/**
 * Operator commands of the matcher. Refreshing the name frequencies is explicit (never silent):
 * POST /v1/admin/identity/name-frequencies/refresh counts the index's names into a new versioned
 * snapshot; replicas pick it up within a minute; explanations name the version they used.
 */
@Controller('v1/admin/identity')
export class IdentityAdminController {
  constructor(
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(AUDIT_TRAIL) private readonly audit: AuditTrail,
    @Inject(MASTER_PATIENT_INDEX) private readonly index: MasterPatientIndex,
  ) {}

  @RequireScopes(SCOPES.adminOperate)
  @Post('name-frequencies/refresh')
  @HttpCode(200)
  async refreshNameFrequencies(@Req() req: Req) {
    const snapshot = await inTransaction(this.db, (uow) => this.index.refreshFrequencies(new PersonIndexRepository(uow)));
    await this.audit.record({
      actor: req.principal.subject, action: 'refresh-name-frequencies', resource: 'identity-matcher', patientRef: null,
      purpose: req.headers['x-purpose-of-use'] ?? null, outcome: 'allowed', details: snapshot,
    });
    return { ...snapshot, parametersVersion: this.index.config.version };
  }
}
