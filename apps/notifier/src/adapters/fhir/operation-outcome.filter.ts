import { ArgumentsHost, Catch, ExceptionFilter, HttpException } from '@nestjs/common';
import { ClinmeshError } from '@clinmesh/errors';

/** FHIR routes answer errors as an OperationOutcome (application/fhir+json), with the stable code in diagnostics. */
@Catch()
export class OperationOutcomeFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<{ status(n: number): unknown; setHeader(k: string, v: string): void; send(b: unknown): void; headersSent?: boolean }>();
    if (res.headersSent) return;
    let status = 500;
    let code = 'INTERNAL';
    let text = 'an unexpected error occurred';
    let issues: unknown[] | undefined;
    if (exception instanceof ClinmeshError) {
      status = exception.status;
      code = exception.code;
      text = exception.message;
      issues = exception.details?.issues as unknown[] | undefined;
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      code = `HTTP.${status}`;
      text = exception.message;
    }
    if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="clinmesh"');
    res.status(status);
    res.setHeader('Content-Type', 'application/fhir+json');
    res.send(JSON.stringify({
      resourceType: 'OperationOutcome',
      issue: issues ?? [{ severity: 'error', code: issueCode(status), details: { text }, diagnostics: code }],
    }));
  }
}

function issueCode(status: number): string {
  if (status === 401 || status === 403) return 'security';
  if (status === 404) return 'not-found';
  if (status === 409 || status === 412) return 'conflict';
  if (status === 422 || status === 400) return 'invalid';
  return 'exception';
}
