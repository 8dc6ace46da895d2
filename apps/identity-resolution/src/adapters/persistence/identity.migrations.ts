import {
  MasterPatientIndexExplanations1732200001200, MasterPatientIndexKeyHashes1732200001400, MasterPatientIndexTables1732200001100, PersonIndexTables1732200001000,
} from './person-index.repository';
import { EmpiParameterSets1732200001300 } from './parameter-set.repository';
import { EmpiKeyRebuildJobs1732200001500 } from './key-rebuild-job.repository';

/** The identity service's schema, in order: what the service and its integration tests migrate with. */
export const IDENTITY_MIGRATIONS = [
  PersonIndexTables1732200001000, MasterPatientIndexTables1732200001100, MasterPatientIndexExplanations1732200001200,
  EmpiParameterSets1732200001300, MasterPatientIndexKeyHashes1732200001400, EmpiKeyRebuildJobs1732200001500,
];
