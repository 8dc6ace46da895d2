import { Module } from '@nestjs/common';
import { SERVICE_CONFIG, ServiceConfig } from '@clinmesh/service-kit';
import { PersonController } from './adapters/http/person.controller';
import { ReviewItemController } from './adapters/http/review-item.controller';
import { IdentityAdminController } from './adapters/http/identity-admin.controller';
import { IDENTITY_RESOLUTION_CONFIG, MASTER_PATIENT_INDEX } from './adapters/http/identity-resolution.tokens';
import { IdentityResolutionConfig, createMasterPatientIndex, loadIdentityResolutionConfig } from './config/identity-resolution.config';

/**
 * HTTP surface of identity-resolution: persons, unmerge, review queue, matcher operator commands. Its one
 * MasterPatientIndex is shared with the consumers (the composition root takes it from here).
 */
@Module({
  controllers: [PersonController, ReviewItemController, IdentityAdminController],
  providers: [
    { provide: IDENTITY_RESOLUTION_CONFIG, inject: [SERVICE_CONFIG], useFactory: (config: ServiceConfig) => loadIdentityResolutionConfig((n) => config.env(n)) },
    { provide: MASTER_PATIENT_INDEX, inject: [IDENTITY_RESOLUTION_CONFIG], useFactory: (config: IdentityResolutionConfig) => createMasterPatientIndex(config) },
  ],
})
export class IdentityResolutionModule {}
