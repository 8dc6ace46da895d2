import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import { ClinmeshError } from '@clinmesh/errors';
import { Logger } from '@clinmesh/observability';
import { LOGGER } from '@clinmesh/service-kit';

/**
 * Errors of the FHIR read API (including the scope guard's 401/403) as a FHIR
 * R4 OperationOutcome with application/fhir+json; 5xx details are logged, not echoed.
 */
@Catch()
export class FhirOperationOutcomeFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<{ status(n: number): unknown; setHeader(k: string, v: string): void; send(b: unknown): void; headersSent?: boolean }>();
    const req = http.getRequest<{ url?: string; method?: string }>();
    if (res.headersSent) return;
    let status = 500;
    let code = 'INTERNAL';
    let detail = 'an unexpected error occurred';
    if (exception instanceof ClinmeshError) {
      status = exception.status;
      code = exception.code;
      detail = exception.message;
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      code = `HTTP.${status}`;
      const body = exception.getResponse();
      detail = typeof body === 'string' ? body : String((body as { message?: unknown }).message ?? exception.message);
    }
    if (status >= 500) {
      this.logger.error({ err: { name: (exception as Error)?.name, message: String((exception as Error)?.message ?? exception).slice(0, 300) }, method: req.method, path: req.url?.split('?')[0] }, 'FHIR read failed');
      if (!(exception instanceof ClinmeshError)) detail = 'an unexpected error occurred';
    }
    if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="clinmesh"');
    if (status === 403 && code === 'AUTH.INSUFFICIENT_SCOPE') res.setHeader('WWW-Authenticate', 'Bearer realm="clinmesh", error="insufficient_scope"');
    res.status(status);
    res.setHeader('Content-Type', 'application/fhir+json');
    res.send(JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: issueCode(status), details: { text: detail }, diagnostics: code }] }));
  }
}

function issueCode(status: number): string {
  if (status === 401 || status === 403) return 'security';
  if (status === 404) return 'not-found';
  if (status >= 500) return 'exception';
  return 'invalid';
}
