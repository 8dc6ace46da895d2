import { TIERS, stageTopic } from '@clinmesh/topology';
import { ServiceSpec } from '@clinmesh/service-kit';
import { IdentityResolutionModule } from './identity-resolution.module';
import { AssignEnterpriseIdHandler } from './application/assign-enterprise-id.handler';
import { PersonIndexRepository, PersonIndexTables1732200001000 } from './adapters/persistence/person-index.repository';

const assign = new AssignEnterpriseIdHandler((ctx) => new PersonIndexRepository(ctx.uow));

/** Composition root of identity-resolution: consumes clinical.ingested.*, produces clinical.identified.*. */
export const identityResolutionService: ServiceSpec = {
  name: 'identity-resolution',
  defaultPort: 8082,
  module: IdentityResolutionModule,
  migrations: [PersonIndexTables1732200001000],
  consumers: () => TIERS.map((tier) => ({
    tier,
    topics: [stageTopic('ingested', tier)],
    readerSchema: 'IngestedEvent' as const,
    handler: (event, ctx) => assign.handle(event as never, ctx),
  })),
};
