import { Catch, Inject } from '@nestjs/common';
import { Logger } from '@clinmesh/observability';
import { HttpErrorFilter, HttpErrorOutline, HttpErrorRequest, HttpErrorResponse, LOGGER, operationOutcome } from '@clinmesh/service-kit';

/**
 * Errors of the FHIR read API (including the scope guard's 401/403) as a FHIR
 * R4 OperationOutcome with application/fhir+json; 5xx details are logged, not
 * echoed. Status and code come from service-kit's `outlineHttpError`, as for
 * every other route.
 */
@Catch()
export class FhirOperationOutcomeFilter extends HttpErrorFilter {
  constructor(@Inject(LOGGER) logger: Logger) {
    super(logger, { message: 'FHIR read failed', stack: false });
  }

  protected render(error: HttpErrorOutline, _req: HttpErrorRequest, res: HttpErrorResponse): void {
    res.setHeader('Content-Type', 'application/fhir+json');
    res.send(JSON.stringify(operationOutcome(error)));
  }
}
