import { SERVICE_CONFIG, ServiceConfig, ServiceSpec } from '@clinmesh/service-kit';
import { IdentityResolutionModule } from './identity-resolution.module';
import type { IdentityResolutionConfig } from './config/identity-resolution.config';
import { IDENTITY_RESOLUTION_CONFIG, MASTER_PATIENT_INDEX } from './adapters/http/identity-resolution.tokens';
import type { MasterPatientIndex } from './application/master-patient-index';
import { IDENTITY_MIGRATIONS } from './adapters/persistence/identity.migrations';
import { identityConsumers } from './identity.consumers';

/** Composition root of identity-resolution: consumes clinical.ingested.*, produces clinical.identified.* and clinical.identity.events. */
export const identityResolutionService: ServiceSpec = {
  name: 'identity-resolution',
  defaultPort: 8082,
  module: IdentityResolutionModule,
  migrations: IDENTITY_MIGRATIONS,
  consumers: (app) => identityConsumers(
    app.get<MasterPatientIndex>(MASTER_PATIENT_INDEX),
    app.get<ServiceConfig>(SERVICE_CONFIG).patientKeySecret,
    app.get<IdentityResolutionConfig>(IDENTITY_RESOLUTION_CONFIG).chunkSize,
  ),
};
