/** Nest injection tokens of normalization. */
export const TERMINOLOGY = Symbol('TERMINOLOGY');
export const NORMALIZE_HANDLER = Symbol('NORMALIZE_HANDLER');
export const NORMALIZATION_CONFIG = Symbol('NORMALIZATION_CONFIG');
export const CANONICAL_RECORDS = Symbol('CANONICAL_RECORDS');
