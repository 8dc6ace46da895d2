import type { Response } from 'express';
import { PROBLEM_CONTENT_TYPE, problem } from '@clinmesh/service-kit';
import { IntakeGate } from '../../application/intake.gate';
import { IngestMetrics } from '../metrics/ingest.metrics';

/**
 * When intake is closed (graceful stop), answers 503 with Retry-After and
 * returns true: problem+json on /v1/hl7v2, an OperationOutcome (`transient`)
 * on /v1/fhir. Answered directly rather than thrown, so an orderly stop does
 * not log every refused request as a server error.
 */
export function answeredIntakeClosed(gate: IntakeGate, metrics: IngestMetrics, res: Response, route: 'hl7v2' | 'fhir'): boolean {
  if (gate.isOpen) return false;
  metrics.intakeClosedRefusal(route);
  const detail = `ingest is shutting down and takes no new messages; retry after ${gate.retryAfterSeconds} s (nothing from this request was stored)`;
  res.setHeader('Retry-After', String(gate.retryAfterSeconds));
  res.status(503);
  if (route === 'fhir') {
    res.setHeader('Content-Type', 'application/fhir+json');
    res.send(JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'transient', diagnostics: detail }] }));
  } else {
    res.setHeader('Content-Type', PROBLEM_CONTENT_TYPE);
    res.send(JSON.stringify(problem(503, 'INGEST.INTAKE_CLOSED', 'Service Unavailable', detail, { instance: `/v1/${route}`, retryAfterSeconds: gate.retryAfterSeconds })));
  }
  return true;
}
