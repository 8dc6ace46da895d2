import { CandidateRecordCache } from '@clinmesh/empi';
import { ConsumerDefinition, tieredConsumer } from '@clinmesh/event-runtime';
import type { MasterPatientIndex } from './application/master-patient-index';
import { AssignEnterpriseIdHandler } from './application/assign-enterprise-id.handler';
import { PersonIndexRepository } from './adapters/persistence/person-index.repository';

/**
 * Identity-resolution's consumers: one per tier of clinical.ingested.*, each chunk matched set-based in
 * one transaction (`prepare` locks the chunk's blocking keys and assigns it, `handle` publishes each
 * event's assignment). Built here, apart from the composition root, so the identity bench drives the
 * service's own consumer path (`bench/identity-service-path.ts`) rather than a copy of it.
 */
export function identityConsumers(index: MasterPatientIndex, patientKeySecret: string, chunkSize: number): ConsumerDefinition[] {
  // Candidate records read by earlier chunks, reused while their stored version is unchanged (bounded LRU).
  const candidateCache = new CandidateRecordCache();
  const assign = new AssignEnterpriseIdHandler(index, (ctx) => new PersonIndexRepository(ctx.uow, candidateCache), patientKeySecret);
  return tieredConsumer({
    stage: 'ingested',
    schema: 'IngestedEvent',
    handle: (event, ctx) => assign.handle(event, ctx),
    prepare: (events, uow) => assign.lockChunk(events, new PersonIndexRepository(uow, candidateCache)),
    chunkSize,
  });
}
