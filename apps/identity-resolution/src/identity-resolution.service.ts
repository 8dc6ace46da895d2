import { CandidateRecordCache } from '@clinmesh/empi';
import { tieredConsumer } from '@clinmesh/event-runtime';
import { SERVICE_CONFIG, ServiceConfig, ServiceSpec } from '@clinmesh/service-kit';
import { IdentityResolutionModule } from './identity-resolution.module';
import { masterPatientIndex } from './identity-resolution.config';
import { AssignEnterpriseIdHandler } from './application/assign-enterprise-id.handler';
import {
  MasterPatientIndexExplanations1732200001200, MasterPatientIndexKeyHashes1732200001400, MasterPatientIndexTables1732200001100, PersonIndexRepository, PersonIndexTables1732200001000,
} from './adapters/persistence/person-index.repository';
import { EmpiParameterSets1732200001300 } from './adapters/persistence/parameter-set.repository';

/** Composition root of identity-resolution: consumes clinical.ingested.*, produces clinical.identified.* and clinical.identity.events. */
export const identityResolutionService: ServiceSpec = {
  name: 'identity-resolution',
  defaultPort: 8082,
  module: IdentityResolutionModule,
  migrations: [PersonIndexTables1732200001000, MasterPatientIndexTables1732200001100, MasterPatientIndexExplanations1732200001200, EmpiParameterSets1732200001300, MasterPatientIndexKeyHashes1732200001400],
  consumers: (app) => {
    const config = app.get<ServiceConfig>(SERVICE_CONFIG);
    // Candidate records read by earlier chunks, reused while their stored version is unchanged (bounded LRU).
    const candidateCache = new CandidateRecordCache();
    const assign = new AssignEnterpriseIdHandler(masterPatientIndex(), (ctx) => new PersonIndexRepository(ctx.uow, candidateCache), config.patientKeySecret);
    return tieredConsumer({
      stage: 'ingested',
      schema: 'IngestedEvent',
      handle: (event, ctx) => assign.handle(event, ctx),
      prepare: (events, uow) => assign.lockChunk(events, new PersonIndexRepository(uow, candidateCache)),
      // Matching holds the chunk's blocking-key locks until commit: modest chunks keep
      // concurrent partitions and tiers from queueing long behind one another.
      chunkSize: Number(config.env('CHUNK_SIZE') ?? 50),
    });
  },
};
