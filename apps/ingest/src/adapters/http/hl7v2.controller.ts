import { Controller, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { splitHl7Batch } from '@clinmesh/hl7v2';
import { ClinmeshError } from '@clinmesh/errors';
import { SCOPES } from '@clinmesh/security';
import { RequireScopes } from '@clinmesh/service-kit';
import { AcceptHl7MessageHandler } from '../../application/accept-hl7-message.handler';
import { IntakeResult } from '../../domain/intake-outcome';
import { IntakeGate } from '../../application/intake.gate';
import { IngestMetrics } from '../metrics/ingest.metrics';
import { ACCEPT_HL7, BULK_INTAKE_PACER, INGEST_METRICS, INTAKE_GATE } from './ingest.tokens';
import { BulkIntakePacer } from '../../application/bulk-intake.pacer';
import { answeredIntakeClosed } from './intake-closed.response';

export const HL7_CONTENT_TYPE = 'x-application/hl7-v2+er7';

/**
 * POST /v1/hl7v2: one HL7 v2 message (answers with its ACK as the body), or
 * a batch file (FHS/BHS…BTS/FTS: every message triaged bulk, answered with
 * one ACK per message in a BHS/BTS batch). `X-Clinmesh-Backfill: true` marks
 * a single message as backfill (bulk unless it is a critical result).
 */
@Controller('v1/hl7v2')
export class Hl7v2Controller {
  constructor(
    @Inject(ACCEPT_HL7) private readonly accept: AcceptHl7MessageHandler,
    @Inject(INTAKE_GATE) private readonly gate: IntakeGate,
    @Inject(INGEST_METRICS) private readonly metrics: IngestMetrics,
    @Inject(BULK_INTAKE_PACER) private readonly pacer: BulkIntakePacer,
  ) {}

  @RequireScopes(SCOPES.ingestWrite)
  @Post()
  @HttpCode(200)
  async post(@Req() req: Request, @Res() res: Response): Promise<void> {
    if (answeredIntakeClosed(this.gate, this.metrics, res, 'hl7v2')) return;
    const body = req.body;
    if (!Buffer.isBuffer(body) || body.length === 0) throw new ClinmeshError('INGEST.EMPTY_BODY', 'the request body must be an HL7 v2 message', { status: 400 });
    const receivedAt = Date.now();
    const head = body.subarray(0, 3).toString('latin1');
    res.setHeader('Content-Type', HL7_CONTENT_TYPE);
    if (head === 'FHS' || head === 'BHS') {
      const file = splitHl7Batch(body);
      const header = file.fileHeader ?? file.batches[0]?.header;
      // A batch is one request: it takes one token of its sender's rate, and its messages are not charged again.
      const refusal = await this.accept.chargeBatch(body, `${header?.sendingApplication ?? ''}^${header?.sendingFacility ?? ''}`, receivedAt);
      if (refusal) {
        res.setHeader('Retry-After', String(refusal.retryAfterSeconds));
        throw new ClinmeshError('INGEST.RATE_LIMITED', refusal.detail, { status: 429, details: { retryAfterSeconds: refusal.retryAfterSeconds, rejectionId: refusal.rejectionId } });
      }
      const inputs: Array<{ index: number; bytes: Buffer }> = [
        ...file.messages.map((m, i) => ({ index: i, bytes: m.raw })),
        ...file.failures.map((f) => ({ index: f.index, bytes: Buffer.isBuffer(f.input) ? f.input : Buffer.from(f.input, 'latin1') })),
      ].sort((a, b) => a.index - b.index);
      const results: IntakeResult[] = [];
      // Bounded parallelism: one transaction per message, several in flight; between groups, bulk
      // gives way while stat or urgent messages arrive (application/bulk-intake.pacer.ts).
      for (let i = 0, size = this.pacer.groupSize(16); i < inputs.length; i += size, size = this.pacer.groupSize(16)) {
        const started = Date.now();
        results.push(...(await Promise.all(inputs.slice(i, i + size).map((x) => this.accept.accept({ bytes: x.bytes, channel: 'HTTP', receivedAt, bulkHint: true, rateCharged: true })))));
        const pause = i + size < inputs.length ? this.pacer.pauseAfter(Date.now() - started) : 0;
        if (pause > 0) {
          this.metrics.bulkIntakePaused(pause);
          await new Promise((resolve) => setTimeout(resolve, pause));
        }
      }
      const accepted = results.filter((r) => r.status !== 'rejected').length;
      res.setHeader('X-Clinmesh-Batch-Summary', `messages=${results.length};accepted=${accepted};rejected=${results.length - accepted}`);
      res.status(200).send(`BHS|^~\\&|CLINMESH|CLINMESH\r${results.map((r) => r.ack).join('')}BTS|${results.length}\r`);
      return;
    }
    const result = await this.accept.accept({ bytes: body, channel: 'HTTP', receivedAt, bulkHint: req.headers['x-clinmesh-backfill'] === 'true' });
    res.setHeader('X-Clinmesh-Message-Id', result.messageId);
    if (result.tier) res.setHeader('X-Clinmesh-Tier', result.tier);
    if (result.reason) res.setHeader('X-Clinmesh-Rejection-Reason', result.reason);
    if (result.retryAfterSeconds) res.setHeader('Retry-After', String(result.retryAfterSeconds));
    // HTTP always answers: the body is the application ACK whatever MSH-15/16 say (they govern MLLP replies).
    res.status(httpStatusFor(result)).send(result.ack);
  }
}

/** The ACK is the answer; the status says the same thing for HTTP clients. */
function httpStatusFor(result: IntakeResult): number {
  if (result.status !== 'rejected') return 200;
  switch (result.reason) {
    case 'OVERSIZED': return 413;
    case 'UNKNOWN_SENDER': return 403;
    case 'RATE_LIMITED': return 429;
    case 'UNSUPPORTED_TYPE':
    case 'UNSUPPORTED_VERSION': return 422;
    default: return 400;
  }
}
