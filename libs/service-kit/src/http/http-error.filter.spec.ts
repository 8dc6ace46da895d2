import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ForbiddenException, PayloadTooLargeException } from '@nestjs/common';
import { ClinmeshError } from '@clinmesh/errors';
import { operationOutcome, outlineHttpError, requestLogContext } from './http-error.filter';

describe('outlineHttpError', () => {
  it('takes status, code, message and details of a ClinmeshError', () => {
    const e = outlineHttpError(new ClinmeshError('FHIR.NOT_FOUND', 'Observation/x is not known', { status: 404, details: { issues: [{ code: 'not-found' }] } }));
    assert.deepEqual(e, { status: 404, code: 'FHIR.NOT_FOUND', detail: 'Observation/x is not known', details: { issues: [{ code: 'not-found' }] } });
  });
  it('names Nest HTTP exceptions HTTP.<status> (413 as HTTP.PAYLOAD_TOO_LARGE) and the body parser errors', () => {
    assert.deepEqual(outlineHttpError(new ForbiddenException('no')), { status: 403, code: 'HTTP.403', detail: 'no', details: {} });
    assert.equal(outlineHttpError(new PayloadTooLargeException()).code, 'HTTP.PAYLOAD_TOO_LARGE');
    assert.equal(outlineHttpError({ type: 'entity.too.large' }).status, 413);
    assert.equal(outlineHttpError({ type: 'entity.parse.failed' }).code, 'HTTP.MALFORMED_JSON');
  });
  it('does not echo the message of an unexpected failure', () => {
    assert.deepEqual(outlineHttpError(new Error('password=secret')), { status: 500, code: 'INTERNAL', detail: 'an unexpected error occurred', details: {} });
    assert.equal(outlineHttpError(new ClinmeshError('DB.DOWN', 'database unavailable', { status: 503 })).detail, 'database unavailable');
  });
});

describe('operationOutcome', () => {
  it('one issue with the FHIR issue type of the status, or the error\'s own issues', () => {
    assert.deepEqual(operationOutcome({ status: 401, code: 'AUTH.MISSING', detail: 'token required', details: {} }), {
      resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'security', details: { text: 'token required' }, diagnostics: 'AUTH.MISSING' }],
    });
    assert.deepEqual(operationOutcome({ status: 422, code: 'X', detail: 'd', details: { issues: [{ code: 'required' }] } }).issue, [{ code: 'required' }]);
  });
});

describe('requestLogContext', () => {
  it('takes the id the service gave the request, else the caller\'s request id, and the caller\'s correlation id', () => {
    assert.deepEqual(requestLogContext({ requestId: 'given-1', headers: { 'x-request-id': 'req-1', 'x-correlation-id': 'corr-1' } }), { requestId: 'given-1', correlationId: 'corr-1' });
    assert.deepEqual(requestLogContext({ headers: { 'x-request-id': 'req-1', 'x-correlation-id': 'corr-1' } }), { requestId: 'req-1', correlationId: 'corr-1' });
    assert.deepEqual(requestLogContext({ headers: { 'x-correlation-id': ['corr-2', 'corr-3'] } }), { requestId: undefined, correlationId: 'corr-2' });
    assert.deepEqual(requestLogContext({ headers: { 'x-request-id': '' } }), { requestId: undefined, correlationId: undefined });
    assert.deepEqual(requestLogContext({}), { requestId: undefined, correlationId: undefined });
  });
  it('drops header values that are not plain tokens (a forged log field, a name)', () => {
    assert.deepEqual(requestLogContext({ headers: { 'x-request-id': 'a"b', 'x-correlation-id': 'Jane Doe' } }), { requestId: undefined, correlationId: undefined });
  });
});
