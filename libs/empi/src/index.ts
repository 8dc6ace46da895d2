export type { PersonRecord, PersonIdentifier, PersonAddress, IdentifierType, StoredRecord } from './record/person-record.model';
export {
  normalizeRecord, normalizeText, normalizeName, normalizeDigits, normalizePhone, normalizeBirthDate, phoneticCodes,
  type NormalizedRecord, type NormalizedBirthDate, type NormalizedIdentifier, type PhoneticCodes,
} from './record/person-record.normalizer';
export { NICKNAME_GROUPS, areNicknames } from './record/name-nickname.data';
export { jaroWinklerSimilarity, withinOneEdit, phoneticAgree } from './matching/string-similarity.comparator';
export {
  COMPARISON_LEVELS, COMPARISON_NAMES, DEFAULT_MATCH_CONFIG, resolveMatchConfig, validateMatchConfig, matchWeight, identifierSelected,
  type ComparisonName, type LevelLabel, type LevelProbabilities, type ComparisonParameters, type IdentifierSelector, type MatchConfig, type WeightCap,
} from './matching/match-config.model';
export {
  compareRecords, compareGivenName, compareFamilyName, compareMiddleName, compareBirthDate, compareExact, compareFuzzy, compareOneEdit,
  compareIdentifiers, MISSING, type ComparisonVector, type RecordComparison,
} from './matching/record-comparison.comparator';
export { MatchWeights, type FieldContribution, type TermFrequencies } from './matching/match-weight.scorer';
export { blockingKeys, keyEvidence, IDENTIFYING_KEY_KINDS } from './matching/blocking-key.generator';
export type { CandidateStore } from './store/candidate-store.port';
export { InMemoryCandidateStore } from './store/in-memory-candidate.store';
export { PgCandidateStore } from './store/pg-candidate.store';
export { SqlCandidateStore, advisoryKey, blockingKeyHash, blockingKeyHashes, integerArrayLiteral, CandidateRecordCache, CHUNK_KEY_HITS_SQL, CANDIDATE_RECORDS_SQL, SAVE_RECORDS_SQL, type RekeyPageResult, type SqlExecutor } from './store/sql-candidate.store';
export { EMPI_PG_MIGRATION, EMPI_PG_MIGRATION_V2, EMPI_PG_MIGRATION_V3, EMPI_PG_MIGRATIONS } from './store/pg-candidate.migration';
export {
  MatchEngine,
  type MatchEngineOptions, type MatchResult, type MatchDecision, type MatchMethod, type CandidateScore, type ReviewItem, type PersonIdGenerator,
  type MatchExplanation, type PersonEvidence, type RecordEvidence,
} from './matching/match.engine';
export { identityRules, type IdentityRuleFinding, type IdentityRuleName } from './matching/identity-rules';
export {
  usNameFrequencySeed, frequencySnapshotFromCounts, countNames, nameFrequency, type NameFrequencySnapshot, type NameCounts, type NameField,
} from './frequency/name-frequency.model';
export { ChunkOverlayStore } from './store/chunk-overlay.store';
export { generateUsRegistrations, toFebrlCsv, type SyntheticRegistration, type UsRegistrationOptions } from './synthetic/us-registration.generator';
export {
  estimateParameters, expectationMaximisation, estimateUFromRandomPairs, mulberry32,
  type EstimateOptions, type ParameterEstimate, type ExpectationMaximisationOptions, type ExpectationMaximisationResult,
} from './matching/parameter.estimator';
export {
  estimateParameterSet, assessParameterSet, insufficientData, parameterSetConfig, chooseParameterSet, DEFAULT_TRAINING_RULES, PARAMETER_ESTIMATE_MINIMUMS,
  type TrainingRule, type ParameterSetOptions, type ParameterSetEstimate, type LevelEstimate, type TrainingSession, type EstimateFinding,
} from './matching/parameter.estimator.set';
export { buildPersonIndex, mergePersons, unmergeRecords, personOfRecord, type PersonIndex, type PersonIndexChange } from './person/person-index.ops';
export { pairwiseAccuracy, type PairwiseAccuracy } from './matching/pairwise-accuracy.evaluator';
export { parseFebrlCsv, FEBRL_SSN_SYSTEM, type FebrlRow } from './record/febrl-dataset.reader';
export { InvalidPersonRecordError, InvalidMatchConfigError, PersonIndexError, CandidateStoreError, DatasetFormatError } from './empi.errors';
export { streamAccuracy, type StreamAccuracy } from './matching/stream-accuracy.evaluator';
