import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import { ClinmeshError } from '@clinmesh/errors';
import { Logger } from '@clinmesh/observability';
import { LOGGER } from './tokens';
import { PROBLEM_CONTENT_TYPE, problem } from './problem';

/**
 * Every error leaves as application/problem+json with a stable code; routes
 * under /v1/fhir answer a FHIR OperationOutcome instead. 5xx details are
 * logged (without payloads) and not echoed to the caller.
 */
@Catch()
export class ProblemJsonFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<{ status(n: number): unknown; setHeader(k: string, v: string): void; send(b: unknown): void; headersSent?: boolean }>();
    const req = http.getRequest<{ url?: string; method?: string }>();
    if (res.headersSent) return;
    let status = 500;
    let code = 'INTERNAL';
    let detail = 'an unexpected error occurred';
    let extra: Record<string, unknown> = {};
    if (exception instanceof ClinmeshError) {
      status = exception.status;
      code = exception.code;
      detail = exception.message;
      if (exception.details) extra = { ...exception.details };
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      const body = exception.getResponse();
      code = `HTTP.${status}`;
      detail = typeof body === 'string' ? body : String((body as { message?: unknown }).message ?? exception.message);
      if (status === 413) code = 'HTTP.PAYLOAD_TOO_LARGE';
    } else if ((exception as { type?: string; status?: number })?.type === 'entity.too.large') {
      status = 413;
      code = 'HTTP.PAYLOAD_TOO_LARGE';
      detail = 'request body exceeds the configured maximum size';
    } else if ((exception as { type?: string })?.type === 'entity.parse.failed') {
      status = 400;
      code = 'HTTP.MALFORMED_JSON';
      detail = 'request body is not valid JSON';
    }
    if (status >= 500) {
      this.logger.error({ err: { name: (exception as Error)?.name, message: String((exception as Error)?.message ?? exception).slice(0, 300), stack: (exception as Error)?.stack }, method: req.method, path: req.url?.split('?')[0] }, 'request failed');
      if (!(exception instanceof ClinmeshError)) detail = 'an unexpected error occurred';
    }
    const title = TITLES[status] ?? 'Error';
    if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="clinmesh"');
    if (status === 403 && code === 'AUTH.INSUFFICIENT_SCOPE') res.setHeader('WWW-Authenticate', 'Bearer realm="clinmesh", error="insufficient_scope"');
    res.status(status);
    if (req.url?.startsWith('/v1/fhir')) {
      res.setHeader('Content-Type', 'application/fhir+json');
      res.send(JSON.stringify({
        resourceType: 'OperationOutcome',
        issue: (extra.issues as unknown[] | undefined) ?? [{ severity: 'error', code: fhirIssueCode(status), details: { text: detail }, diagnostics: code }],
      }));
      return;
    }
    res.setHeader('Content-Type', PROBLEM_CONTENT_TYPE);
    res.send(JSON.stringify(problem(status, code, title, detail, { ...extra, instance: req.url?.split('?')[0] })));
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 413: 'Payload Too Large',
  415: 'Unsupported Media Type', 422: 'Unprocessable Content', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable',
};

function fhirIssueCode(status: number): string {
  if (status === 401 || status === 403) return 'security';
  if (status === 404) return 'not-found';
  if (status === 409) return 'conflict';
  if (status === 413) return 'too-costly';
  if (status === 429) return 'throttled';
  if (status >= 500) return 'exception';
  return 'invalid';
}
