/** Nest injection token of the app's MasterPatientIndex (built once in the composition root). */
export const MASTER_PATIENT_INDEX = Symbol('MASTER_PATIENT_INDEX');
/** Nest injection token of the app's IdentityResolutionConfig (loaded once, validated). */
export const IDENTITY_RESOLUTION_CONFIG = Symbol('IDENTITY_RESOLUTION_CONFIG');
/** Nest injection token of the app's BlockingKeyRebuildJobs (one per process: the running job lives in it). */
export const KEY_REBUILD_JOBS = Symbol('KEY_REBUILD_JOBS');
