import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Logger } from '@clinmesh/observability';
import type { AuditTrail } from '@clinmesh/security';
import { AUDIT_TRAIL, DATA_SOURCE, LOGGER, SERVICE_CONFIG, ServiceConfig } from '@clinmesh/service-kit';
import { PersonController } from './adapters/http/person.controller';
import { ReviewItemController } from './adapters/http/review-item.controller';
import { IdentityAdminController } from './adapters/http/identity-admin.controller';
import { IDENTITY_RESOLUTION_CONFIG, KEY_REBUILD_JOBS, MASTER_PATIENT_INDEX } from './adapters/http/identity-resolution.tokens';
import { readIndex } from './adapters/http/identity-request.transaction';
import { KeyRebuildJobRepository } from './adapters/persistence/key-rebuild-job.repository';
import { BlockingKeyRebuild } from './application/blocking-key.rebuild';
import { BlockingKeyRebuildJobs } from './application/blocking-key-rebuild.jobs';
import type { MasterPatientIndex } from './application/master-patient-index';
import { IdentityResolutionConfig, createMasterPatientIndex, loadIdentityResolutionConfig } from './config/identity-resolution.config';

/**
 * HTTP surface of identity-resolution: persons, unmerge, review queue, matcher operator commands (the key rebuild as a background job). Its one
 * MasterPatientIndex is shared with the consumers (the composition root takes it from here).
 */
@Module({
  controllers: [PersonController, ReviewItemController, IdentityAdminController],
  providers: [
    { provide: IDENTITY_RESOLUTION_CONFIG, inject: [SERVICE_CONFIG], useFactory: (config: ServiceConfig) => loadIdentityResolutionConfig((n) => config.env(n)) },
    { provide: MASTER_PATIENT_INDEX, inject: [IDENTITY_RESOLUTION_CONFIG], useFactory: (config: IdentityResolutionConfig) => createMasterPatientIndex(config) },
    {
      provide: KEY_REBUILD_JOBS,
      inject: [DATA_SOURCE, MASTER_PATIENT_INDEX, AUDIT_TRAIL, LOGGER],
      useFactory: (db: DataSource, index: MasterPatientIndex, audit: AuditTrail, logger: Logger) =>
        new BlockingKeyRebuildJobs(new BlockingKeyRebuild(index), (work) => readIndex(db, work), new KeyRebuildJobRepository(db), audit, logger),
    },
  ],
})
export class IdentityResolutionModule {}
