/** Nest injection token of the app's MasterPatientIndex (built once in the composition root). */
export const MASTER_PATIENT_INDEX = Symbol('MASTER_PATIENT_INDEX');
/** Nest injection token of the app's IdentityResolutionConfig (loaded once, validated). */
export const IDENTITY_RESOLUTION_CONFIG = Symbol('IDENTITY_RESOLUTION_CONFIG');
