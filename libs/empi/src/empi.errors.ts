import { ClinmeshError } from '@clinmesh/errors';

/** A record the EMPI cannot match at all (e.g. no recordId). Not retriable: dead-letter it. */
export class InvalidPersonRecordError extends ClinmeshError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('EMPI.RECORD.INVALID', message, { retriable: false, status: 400, details });
  }
}

/** A match configuration that would produce meaningless weights (m or u outside (0,1), lower > upper). */
export class InvalidMatchConfigError extends ClinmeshError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('EMPI.CONFIG.INVALID', message, { retriable: false, status: 500, details });
  }
}

/** Merge/unmerge asked about a person or record the index does not hold. */
export class PersonIndexError extends ClinmeshError {
  constructor(code: 'EMPI.PERSON.NOT_FOUND' | 'EMPI.RECORD.NOT_IN_PERSON' | 'EMPI.PERSON.SAME', message: string, details?: Record<string, unknown>) {
    super(code, message, { retriable: false, status: code === 'EMPI.PERSON.NOT_FOUND' ? 404 : 409, details });
  }
}

/** The candidate store failed (database down, timeout). Retriable: the message is re-consumed. */
export class CandidateStoreError extends ClinmeshError {
  constructor(message: string, cause: unknown) {
    super('EMPI.STORE.FAILED', message, { retriable: true, status: 503, cause });
  }
}

/** A benchmark/fixture dataset that does not have the expected shape. */
export class DatasetFormatError extends ClinmeshError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('EMPI.DATASET.FORMAT', message, { retriable: false, status: 400, details });
  }
}
