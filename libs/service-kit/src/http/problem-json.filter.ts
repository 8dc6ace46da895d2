import { Catch, Inject } from '@nestjs/common';
import { Logger } from '@clinmesh/observability';
import { LOGGER } from './tokens';
import { PROBLEM_CONTENT_TYPE, problem } from './problem';
import { HttpErrorFilter, HttpErrorOutline, HttpErrorRequest, HttpErrorResponse, operationOutcome } from './http-error.filter';

/**
 * Every error leaves as application/problem+json with a stable code and the
 * request id (also in the X-Request-Id header, and in the error's log line); routes
 * under /v1/fhir answer a FHIR OperationOutcome instead. 5xx details are
 * logged (without payloads) and not echoed to the caller.
 */
@Catch()
export class ProblemJsonFilter extends HttpErrorFilter {
  constructor(@Inject(LOGGER) logger: Logger) {
    super(logger, { message: 'request failed', stack: true });
  }

  protected render(error: HttpErrorOutline, req: HttpErrorRequest, res: HttpErrorResponse): void {
    if (req.url?.startsWith('/v1/fhir')) {
      res.setHeader('Content-Type', 'application/fhir+json');
      res.send(JSON.stringify(operationOutcome(error)));
      return;
    }
    res.setHeader('Content-Type', PROBLEM_CONTENT_TYPE);
    res.send(JSON.stringify(problem(error.status, error.code, TITLES[error.status] ?? 'Error', error.detail, { ...error.details, instance: req.url?.split('?')[0], ...(req.requestId ? { requestId: req.requestId } : {}) })));
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 413: 'Payload Too Large',
  415: 'Unsupported Media Type', 422: 'Unprocessable Content', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable',
};
