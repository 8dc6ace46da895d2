import { SERVICE_CONFIG, ServiceConfig, ServiceSpec } from '@clinmesh/service-kit';
import { IdentityResolutionModule } from './identity-resolution.module';
import type { IdentityResolutionConfig } from './config/identity-resolution.config';
import { IDENTITY_RESOLUTION_CONFIG, KEY_REBUILD_JOBS, MASTER_PATIENT_INDEX } from './adapters/http/identity-resolution.tokens';
import type { BlockingKeyRebuildJobs } from './application/blocking-key-rebuild.jobs';
import { BlockingKeyRebuild } from './application/blocking-key.rebuild';
import type { MasterPatientIndex } from './application/master-patient-index';
import { readIndex } from './adapters/http/identity-request.transaction';
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
  // An index saved before the key scheme in force (an upgrade that added a key kind) is said at start, once:
  // its records cannot be found through the new kinds until an operator runs the rebuild.
  afterStart: async (app, ctx) => {
    const rebuild = new BlockingKeyRebuild(app.get<MasterPatientIndex>(MASTER_PATIENT_INDEX));
    try {
      const { sampled, stale } = await rebuild.check((work) => readIndex(ctx.dataSource, work));
      if (stale > 0) ctx.logger.warn({ sampled, stale }, 'indexed records carry blocking keys of an older key scheme: run `npm run clinmesh -- identity-keys rebuild`');
    } catch (err) {
      ctx.logger.warn({ error: (err as Error).name, code: (err as { code?: string }).code }, 'blocking-key check at start failed');
    }
    // A rebuild running at a graceful stop ends between pages, recorded as interrupted (start it again to finish).
    return { stop: () => app.get<BlockingKeyRebuildJobs>(KEY_REBUILD_JOBS).stop() };
  },
};
