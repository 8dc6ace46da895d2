import { Controller, Inject, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ClinmeshError } from '@clinmesh/errors';
import { Principal, SCOPES } from '@clinmesh/security';
import { RequireScopes } from '@clinmesh/service-kit';
import { AcceptFhirPayloadHandler } from '../../application/accept-fhir-payload.handler';
import { IntakeGate } from '../../application/intake.gate';
import { IngestMetrics } from '../metrics/ingest.metrics';
import { ACCEPT_FHIR, INGEST_METRICS, INTAKE_GATE } from './ingest.tokens';
import { answeredIntakeClosed } from './intake-closed.response';

/** POST /v1/fhir: a FHIR R4 resource or Bundle → 202 with the message id; errors as OperationOutcome. */
@Controller('v1/fhir')
export class FhirController {
  constructor(
    @Inject(ACCEPT_FHIR) private readonly accept: AcceptFhirPayloadHandler,
    @Inject(INTAKE_GATE) private readonly gate: IntakeGate,
    @Inject(INGEST_METRICS) private readonly metrics: IngestMetrics,
  ) {}

  @RequireScopes(SCOPES.ingestWrite)
  @Post()
  async post(@Req() req: Request & { principal: Principal }, @Res() res: Response): Promise<void> {
    if (answeredIntakeClosed(this.gate, this.metrics, res, 'fhir')) return;
    const body = req.body;
    if (!Buffer.isBuffer(body) || body.length === 0) throw new ClinmeshError('INGEST.EMPTY_BODY', 'the request body must be a FHIR R4 resource', { status: 400 });
    const sender = req.principal.clientId ?? req.principal.subject;
    const result = await this.accept.accept({ bytes: body, sender, receivedAt: Date.now(), bulkHint: req.headers['x-clinmesh-backfill'] === 'true' }).catch((error: unknown) => {
      const retry = error instanceof ClinmeshError ? (error.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds : undefined;
      if (retry) res.setHeader('Retry-After', String(retry));
      throw error;
    });
    res.setHeader('Content-Type', 'application/fhir+json');
    res.setHeader('X-Clinmesh-Message-Id', result.messageId);
    res.status(result.status === 'accepted' ? 202 : 200).send(JSON.stringify({
      resourceType: 'OperationOutcome',
      id: result.messageId,
      issue: [
        { severity: 'information', code: 'informational', diagnostics: `${result.status}: message ${result.messageId}, tier ${result.tier}` },
        ...(result.warnings ?? []).map((w) => ({ severity: w.severity, code: w.code, diagnostics: w.diagnostics, expression: w.expression })),
      ],
    }));
  }
}
