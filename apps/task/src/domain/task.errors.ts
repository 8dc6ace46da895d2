import { ClinmeshError } from '@clinmesh/errors';

/** Stable error codes of the task service (problem+json `code`). */
export const TASK_ERRORS = {
  notFound: 'TASK.NOT_FOUND',
  illegalTransition: 'TASK.ILLEGAL_TRANSITION',
  missingField: 'TASK.MISSING_FIELD',
  stateConflict: 'TASK.STATE_CONFLICT',
  roleNotAllowed: 'TASK.ROLE_NOT_ALLOWED',
  versionMismatch: 'TASK.VERSION_MISMATCH',
  preconditionRequired: 'TASK.PRECONDITION_REQUIRED',
  notAcknowledgeable: 'TASK.NOT_ACKNOWLEDGEABLE',
  feedbackNotAccepted: 'TASK.FEEDBACK_NOT_ACCEPTED',
  invalidRequest: 'TASK.INVALID_REQUEST',
  invalidWorkflow: 'TASK.INVALID_WORKFLOW',
} as const;

export const taskNotFound = (taskId: string) => new ClinmeshError(TASK_ERRORS.notFound, `no task ${taskId}`, { status: 404 });

export const illegalTransition = (from: string, to: string, allowed: Array<{ to: string; transition: string }>) =>
  new ClinmeshError(TASK_ERRORS.illegalTransition, `no transition from "${from}" to "${to}"; allowed: ${allowed.map((a) => a.to).join(', ') || 'none (the task is closed)'}`,
    { status: 422, details: { currentState: from, to, allowed } });

export const missingField = (transition: string, field: string) =>
  new ClinmeshError(TASK_ERRORS.missingField, `transition "${transition}" requires the field "${field}"`, { status: 422, details: { transition, field } });

export const stateConflict = (message: string, current: { state: string; status: string; owner: string | null; version: number }) =>
  new ClinmeshError(TASK_ERRORS.stateConflict, message, { status: 409, details: { current } });

export const roleNotAllowed = (transition: string, roles: string[]) =>
  new ClinmeshError(TASK_ERRORS.roleNotAllowed, `transition "${transition}" may be taken only by ${roles.join(', ')}`, { status: 403, details: { transition, roles } });

export const versionMismatch = (expected: number, current: number) =>
  new ClinmeshError(TASK_ERRORS.versionMismatch, `If-Match "${expected}" does not match the task's version "${current}"`, { status: 412, details: { currentVersion: current } });

export const invalidRequest = (message: string) => new ClinmeshError(TASK_ERRORS.invalidRequest, message, { status: 400 });
