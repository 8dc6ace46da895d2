import { ClinmeshError } from '@clinmesh/errors';

/** Errors of the identity-resolution API, with stable codes (answered as problem+json). */
export class PersonNotFoundError extends ClinmeshError {
  constructor(epid: string) {
    super('PERSON.NOT_FOUND', `no person ${epid}`, { status: 404, details: { epid } });
  }
}

export class PersonMergedError extends ClinmeshError {
  constructor(epid: string, mergedInto: string | null) {
    super('PERSON.MERGED', `person ${epid} was merged into ${mergedInto}; unmerge from the surviving person`, { status: 409, details: { epid, mergedInto } });
  }
}

export class UnmergeRequestError extends ClinmeshError {
  constructor(code: 'PERSON.UNMERGE.INVALID' | 'PERSON.UNMERGE.RECORD_NOT_IN_PERSON' | 'PERSON.UNMERGE.ALL_RECORDS', message: string, details?: Record<string, unknown>) {
    super(code, message, { status: code === 'PERSON.UNMERGE.INVALID' ? 400 : 409, details });
  }
}

export class ReviewItemNotFoundError extends ClinmeshError {
  constructor(id: string) {
    super('REVIEW.NOT_FOUND', `no review item ${id}`, { status: 404, details: { id } });
  }
}

/** The caller's If-Match names a version the item no longer has (someone changed it since it was read): 412. */
export class ReviewVersionConflictError extends ClinmeshError {
  constructor(id: string, expected: number, current: number, status: string) {
    super('REVIEW.VERSION_MISMATCH', `review item ${id} is at version ${current} (${status}), not ${expected}`, { status: 412, details: { id, currentVersion: current, status } });
  }
}

/** The item was already decided: 409 with its current state. */
export class ReviewAlreadyDecidedError extends ClinmeshError {
  constructor(id: string, current: { status: string; version: number; decidedBy: string | null; decidedAt: string | null }) {
    super('REVIEW.ALREADY_DECIDED', `review item ${id} was already decided (${current.status})`, { status: 409, details: { id, ...current, currentVersion: current.version } });
  }
}

/** A link decision naming a person that is not among the item's candidates. */
export class ReviewCandidateError extends ClinmeshError {
  constructor(id: string, epid: string, candidates: string[]) {
    super('REVIEW.INVALID_CANDIDATE', `person ${epid} is not a candidate of review item ${id}`, { status: 400, details: { id, epid, candidates } });
  }
}

export class InvalidRequestError extends ClinmeshError {
  constructor(code: string, message: string) {
    super(code, message, { status: 400 });
  }
}

export class ParameterSetNotFoundError extends ClinmeshError {
  constructor(version: string) {
    super('IDENTITY.PARAMETERS.NOT_FOUND', `no parameter set ${version}`, { status: 404, details: { version } });
  }
}

/** An estimate refused (422): too little data to be meaningful, or unsafe to score with (which levels, why). */
export class ParameterEstimateRefusedError extends ClinmeshError {
  constructor(code: 'IDENTITY.PARAMETERS.INSUFFICIENT_DATA' | 'IDENTITY.PARAMETERS.UNSAFE', message: string, details: Record<string, unknown>) {
    super(code, message, { status: 422, details });
  }
}

/** Activation of a set that is already active, or retired; retiring a retired set (409 with its current state). */
export class ParameterSetStateError extends ClinmeshError {
  constructor(version: string, current: { status: string; revision: number; sourceSystem: string | null }) {
    super(
      current.status === 'active' ? 'IDENTITY.PARAMETERS.ALREADY_ACTIVE' : 'IDENTITY.PARAMETERS.RETIRED',
      current.status === 'active' ? `parameter set ${version} is already active` : `parameter set ${version} was retired; estimate a new set (or activate another)`,
      { status: 409, details: { version, ...current, currentRevision: current.revision } },
    );
  }
}

/** If-Match names a revision the set no longer has: 412. */
export class ParameterSetRevisionMismatchError extends ClinmeshError {
  constructor(version: string, expected: number, current: number, status: string) {
    super('IDENTITY.PARAMETERS.REVISION_MISMATCH', `parameter set ${version} is at revision ${current} (${status}), not ${expected}`, { status: 412, details: { version, currentRevision: current, status } });
  }
}

/** A blocking-key rebuild is already running (one at a time): 409 naming it. */
export class KeyRebuildRunningError extends ClinmeshError {
  constructor(running: { id: string; startedAt: string; requestedBy: string }) {
    super('IDENTITY.KEY_REBUILD.RUNNING', `blocking-key rebuild ${running.id} is running (since ${running.startedAt}); follow it instead of starting another`,
      { status: 409, details: { ...running, location: keyRebuildLocation(running.id) } });
  }
}

export class KeyRebuildNotFoundError extends ClinmeshError {
  constructor(id: string) {
    super('IDENTITY.KEY_REBUILD.NOT_FOUND', `no blocking-key rebuild ${id}`, { status: 404, details: { id } });
  }
}

/** Where a rebuild job is followed. */
export function keyRebuildLocation(id: string): string {
  return `/v1/admin/identity/blocking-keys/rebuilds/${encodeURIComponent(id)}`;
}
