import { CandidateRecordCache } from '@clinmesh/empi';
import { tieredConsumer } from '@clinmesh/event-runtime';
import { SERVICE_CONFIG, ServiceConfig, ServiceSpec } from '@clinmesh/service-kit';
import { IdentityResolutionModule } from './identity-resolution.module';
import type { IdentityResolutionConfig } from './config/identity-resolution.config';
import { IDENTITY_RESOLUTION_CONFIG, MASTER_PATIENT_INDEX } from './adapters/http/identity-resolution.tokens';
import type { MasterPatientIndex } from './application/master-patient-index';
import { AssignEnterpriseIdHandler } from './application/assign-enterprise-id.handler';
import { PersonIndexRepository } from './adapters/persistence/person-index.repository';
import { IDENTITY_MIGRATIONS } from './adapters/persistence/identity.migrations';

/** Composition root of identity-resolution: consumes clinical.ingested.*, produces clinical.identified.* and clinical.identity.events. */
export const identityResolutionService: ServiceSpec = {
  name: 'identity-resolution',
  defaultPort: 8082,
  module: IdentityResolutionModule,
  migrations: IDENTITY_MIGRATIONS,
  consumers: (app) => {
    const config = app.get<ServiceConfig>(SERVICE_CONFIG);
    const identity = app.get<IdentityResolutionConfig>(IDENTITY_RESOLUTION_CONFIG);
    // Candidate records read by earlier chunks, reused while their stored version is unchanged (bounded LRU).
    const candidateCache = new CandidateRecordCache();
    const assign = new AssignEnterpriseIdHandler(app.get<MasterPatientIndex>(MASTER_PATIENT_INDEX), (ctx) => new PersonIndexRepository(ctx.uow, candidateCache), config.patientKeySecret);
    return tieredConsumer({
      stage: 'ingested',
      schema: 'IngestedEvent',
      handle: (event, ctx) => assign.handle(event, ctx),
      prepare: (events, uow) => assign.lockChunk(events, new PersonIndexRepository(uow, candidateCache)),
      chunkSize: identity.chunkSize,
    });
  },
};
