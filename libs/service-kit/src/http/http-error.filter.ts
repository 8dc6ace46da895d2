import { ArgumentsHost, ExceptionFilter, HttpException } from '@nestjs/common';
import { ClinmeshError } from '@clinmesh/errors';
import { Logger, LogContext, plainHeader } from '@clinmesh/observability';

/** What an error means for an HTTP answer, whatever the format it is rendered in. */
export interface HttpErrorOutline {
  status: number;
  /** Stable machine-readable code (`FHIR.NOT_FOUND`, `HTTP.404`, `INTERNAL`). */
  code: string;
  /** Safe to send: for 5xx other than a ClinmeshError it is the generic text. */
  detail: string;
  /** A ClinmeshError's details (e.g. `issues`), echoed by the renderer as it sees fit. */
  details: Record<string, unknown>;
}

export interface HttpErrorResponse {
  status(n: number): unknown;
  setHeader(k: string, v: string): void;
  send(b: unknown): void;
  headersSent?: boolean;
}
export interface HttpErrorRequest {
  url?: string;
  method?: string;
  headers?: Record<string, string | string[] | undefined>;
  /** Set by the request-id middleware. */
  requestId?: string;
}

/**
 * The ids an error line about `req` carries: the request id the service gave it (`requestIds`),
 * else the caller's, and the caller's correlation id — plain tokens only.
 */
export function requestLogContext(req: HttpErrorRequest): LogContext {
  return { requestId: req.requestId ?? plainHeader(req.headers?.['x-request-id']), correlationId: plainHeader(req.headers?.['x-correlation-id']) };
}

const UNEXPECTED = 'an unexpected error occurred';

/**
 * Status, code and detail of a thrown value: a ClinmeshError (its status,
 * code, message, details), a Nest HttpException (`HTTP.<status>`), the body
 * parser's too-large / malformed-JSON errors, or anything else (500 INTERNAL).
 * 5xx details other than a ClinmeshError's are not echoed.
 */
export function outlineHttpError(exception: unknown): HttpErrorOutline {
  let status = 500;
  let code = 'INTERNAL';
  let detail = UNEXPECTED;
  let details: Record<string, unknown> = {};
  if (exception instanceof ClinmeshError) {
    status = exception.status;
    code = exception.code;
    detail = exception.message;
    if (exception.details) details = { ...exception.details };
  } else if (exception instanceof HttpException) {
    status = exception.getStatus();
    const body = exception.getResponse();
    code = status === 413 ? 'HTTP.PAYLOAD_TOO_LARGE' : `HTTP.${status}`;
    detail = typeof body === 'string' ? body : String((body as { message?: unknown }).message ?? exception.message);
  } else if ((exception as { type?: string } | undefined)?.type === 'entity.too.large') {
    status = 413;
    code = 'HTTP.PAYLOAD_TOO_LARGE';
    detail = 'request body exceeds the configured maximum size';
  } else if ((exception as { type?: string } | undefined)?.type === 'entity.parse.failed') {
    status = 400;
    code = 'HTTP.MALFORMED_JSON';
    detail = 'request body is not valid JSON';
  }
  if (status >= 500 && !(exception instanceof ClinmeshError)) detail = UNEXPECTED;
  return { status, code, detail, details };
}

/** FHIR R4 issue type of an HTTP status. */
export function fhirIssueCode(status: number): string {
  if (status === 401 || status === 403) return 'security';
  if (status === 404) return 'not-found';
  if (status === 409) return 'conflict';
  if (status === 413) return 'too-costly';
  if (status === 429) return 'throttled';
  if (status >= 500) return 'exception';
  return 'invalid';
}

/** A FHIR R4 OperationOutcome of an error: its own `issues` when it carries them, else one issue. */
export function operationOutcome(error: HttpErrorOutline): { resourceType: 'OperationOutcome'; issue: unknown[] } {
  return {
    resourceType: 'OperationOutcome',
    issue: (error.details.issues as unknown[] | undefined) ?? [{ severity: 'error', code: fhirIssueCode(error.status), details: { text: error.detail }, diagnostics: error.code }],
  };
}

/**
 * What every error filter does before it renders: nothing once headers are
 * sent, 5xx logged (name, message, path; no payloads), the Bearer challenge
 * on 401/403, the status set. Subclasses only render their format.
 */
export abstract class HttpErrorFilter implements ExceptionFilter {
  constructor(
    protected readonly logger: Logger,
    private readonly failure: { message: string; stack: boolean },
  ) {}

  protected abstract render(error: HttpErrorOutline, req: HttpErrorRequest, res: HttpErrorResponse): void;

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<HttpErrorResponse>();
    const req = http.getRequest<HttpErrorRequest>();
    if (res.headersSent) return;
    const error = outlineHttpError(exception);
    if (error.status >= 500) {
      const e = exception as Error | undefined;
      const err = { name: e?.name, message: String(e?.message ?? exception).slice(0, 300), ...(this.failure.stack ? { stack: e?.stack } : {}) };
      this.logger.error({ ...requestLogContext(req), err, method: req.method, path: req.url?.split('?')[0] }, this.failure.message);
    }
    if (error.status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="clinmesh"');
    if (error.status === 403 && error.code === 'AUTH.INSUFFICIENT_SCOPE') res.setHeader('WWW-Authenticate', 'Bearer realm="clinmesh", error="insufficient_scope"');
    res.status(error.status);
    this.render(error, req, res);
  }
}
