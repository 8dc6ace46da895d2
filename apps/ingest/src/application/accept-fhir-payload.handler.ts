import { ClinmeshError } from '@clinmesh/errors';
import { deriveEventId, newEventId } from '@clinmesh/event-runtime';
import { sourcePatientKey } from '@clinmesh/security';
import { stageTopic } from '@clinmesh/topology';
import type { IngestedEvent } from '@clinmesh/schemas';
import { IntakeResult } from '../domain/intake-outcome';
import { CONTROL_ID_REUSE, contentHash as contentHashOf } from '../domain/message-content';
import { intakeMessageId } from './message-identity';
import { FhirIssue, readFhirIntakeFacts } from '../domain/fhir-intake';
import { TriageRules, triage } from '../domain/triage/triage.policy';
import { SenderRateLimiter } from '../domain/rate-limit/sender-rate.limiter';
import { IntakeMetricsPort, MessageStorePort, StoredMessageRef, messageOrigin } from './intake.ports';
import { AcceptedMessageWriter } from './accepted-message.writer';

export interface FhirArrival {
  bytes: Buffer;
  /** The authenticated client (token subject): the FHIR sender. */
  sender: string;
  receivedAt: number;
  bulkHint?: boolean;
}

/**
 * FHIR R4 intake over HTTP: structural validation (problems answered as one
 * OperationOutcome), dedupe by sender + Bundle/resource id (or content hash
 * when there is no id) + content, triage, then raw payload + IngestedEvent in
 * one transaction before answering 202. The same payload again is a duplicate
 * (200, nothing published); another payload under an id the sender used
 * before is a new message, accepted and flagged `control-id-reuse`.
 */
export class AcceptFhirPayloadHandler {
  constructor(
    private readonly store: MessageStorePort,
    private readonly writer: AcceptedMessageWriter,
    private readonly metrics: IntakeMetricsPort,
    private readonly rules: TriageRules,
    private readonly options: { maxMessageBytes: number; maxBundleEntries: number; patientKeySecret: string; rateLimiter?: SenderRateLimiter; requiredElements?: 'error' | 'warning' },
  ) {}

  async accept(arrival: FhirArrival): Promise<IntakeResult & { warnings?: FhirIssue[] }> {
    const contentHash = contentHashOf(arrival.bytes);
    const base = { id: newEventId(), sender: arrival.sender, channel: 'HTTP' as const, receivedAt: arrival.receivedAt, contentHash };
    const decision = this.options.rateLimiter?.take(arrival.sender);
    if (decision && !decision.allowed) {
      const retryAfterSeconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
      const detail = `sender ${arrival.sender} exceeded its rate limit of ${decision.limit.ratePerSecond} requests/s (burst ${decision.limit.burst}); retry after ${retryAfterSeconds} s`;
      await this.store.insertRejection({ ...base, messageType: null, controlId: null, reason: 'RATE_LIMITED', detail, raw: arrival.bytes.subarray(0, this.options.maxMessageBytes) });
      this.metrics.outcome({ sender: arrival.sender, messageType: 'unknown', tier: 'none', outcome: 'rejected', reason: 'RATE_LIMITED', channel: 'HTTP' });
      throw new ClinmeshError('INGEST.RATE_LIMITED', detail, {
        status: 429, details: { rejectionId: base.id, retryAfterSeconds, issues: [{ severity: 'error', code: 'throttled', diagnostics: detail }] },
      });
    }
    if (arrival.bytes.length > this.options.maxMessageBytes) {
      const detail = `payload is ${arrival.bytes.length} bytes; the limit is ${this.options.maxMessageBytes}`;
      await this.store.insertRejection({ ...base, messageType: null, controlId: null, reason: 'OVERSIZED', detail, raw: arrival.bytes.subarray(0, 65536) });
      this.metrics.outcome({ sender: arrival.sender, messageType: 'unknown', tier: 'none', outcome: 'rejected', reason: 'OVERSIZED', channel: 'HTTP' });
      throw new ClinmeshError('INGEST.FHIR.OVERSIZED', detail, { status: 413, details: { rejectionId: base.id, issues: [{ severity: 'error', code: 'too-costly', diagnostics: detail }] } });
    }
    let body: unknown;
    let facts;
    try {
      const text = new TextDecoder('utf-8', { fatal: true }).decode(arrival.bytes);
      try {
        body = JSON.parse(text);
      } catch {
        throw new ClinmeshError('INGEST.FHIR.MALFORMED_JSON', 'the body is not valid JSON', { status: 400, details: { issues: [{ severity: 'error', code: 'structure', diagnostics: 'the body is not valid JSON' }] } });
      }
      facts = readFhirIntakeFacts(body, { maxEntries: this.options.maxBundleEntries, requiredElements: this.options.requiredElements ?? 'warning' });
    } catch (error) {
      const e = error instanceof ClinmeshError ? error
        : new ClinmeshError('INGEST.FHIR.ENCODING', 'the body is not valid UTF-8', { status: 400, details: { issues: [{ severity: 'error', code: 'structure', diagnostics: 'the body is not valid UTF-8' }] } });
      const reason = e.code === 'INGEST.FHIR.TOO_MANY_ENTRIES' ? 'TOO_MANY_ENTRIES' : e.code === 'INGEST.FHIR.ENCODING' ? 'ENCODING' : 'INVALID_FHIR';
      await this.store.insertRejection({ ...base, messageType: null, controlId: null, reason, detail: e.message.slice(0, 2000), raw: arrival.bytes });
      this.metrics.outcome({ sender: arrival.sender, messageType: 'unknown', tier: 'none', outcome: 'rejected', reason, channel: 'HTTP' });
      throw new ClinmeshError(e.code, e.message, { status: e.status, details: { ...e.details, rejectionId: base.id } });
    }
    const controlId = facts.controlId ?? `sha256:${contentHash.slice(0, 40)}`;
    const existing = await this.store.findDuplicate(null, arrival.sender, controlId, contentHash);
    if (existing) return this.duplicate(arrival.sender, facts.messageType, existing, facts.warnings);
    const { tier, ruleId } = triage(this.rules, { messageTypes: facts.resourceTypes.map((t) => `FHIR/${t}`), abnormalFlags: facts.abnormalFlags, bulkHint: arrival.bulkHint ?? false });
    const messageId = intakeMessageId('FHIR_R4', arrival.sender, controlId, contentHash);
    const patient = facts.patientIdentifiers.find((i) => i.type === 'MR') ?? facts.patientIdentifiers[0];
    const key = patient ? sourcePatientKey(this.options.patientKeySecret, patient.system, patient.value) : '';
    const event: IngestedEvent = {
      eventId: deriveEventId(messageId, 'ingested'), correlationId: messageId, receivedAt: arrival.receivedAt, tier, triageRule: ruleId,
      source: { system: arrival.sender, facility: '', channel: 'HTTP' }, format: 'FHIR_R4', messageType: facts.messageType, controlId,
      version: '4.0.1', sourcePatientKey: key, patientIdentifiers: facts.patientIdentifiers, contentType: 'application/fhir+json', raw: arrival.bytes,
    };
    const stored = await this.writer.write({
      row: {
        messageId, sender: arrival.sender, controlId, contentHash, format: 'FHIR_R4', channel: 'HTTP', messageType: facts.messageType, tier,
        triageRule: ruleId, receivedAt: arrival.receivedAt, raw: arrival.bytes, ack: null,
      },
      origin: messageOrigin(event),
      event: { topic: stageTopic('ingested', tier), key: key || null, value: event },
    });
    if (!stored) {
      // Raced with a copy of the same payload: answer as its duplicate.
      const winner = await this.store.findDuplicate(null, arrival.sender, controlId, contentHash);
      if (winner) return this.duplicate(arrival.sender, facts.messageType, winner, facts.warnings);
      throw new Error('in_message conflict without a stored row (deleted concurrently?)');
    }
    this.metrics.outcome({ sender: arrival.sender, messageType: facts.messageType, tier, outcome: 'accepted', channel: 'HTTP' });
    if (stored.flags.includes(CONTROL_ID_REUSE)) this.metrics.controlIdReuse({ sender: arrival.sender, messageType: facts.messageType, channel: 'HTTP', format: 'FHIR_R4' });
    return { status: 'accepted', messageId, tier, flags: stored.flags, warnings: facts.warnings };
  }

  private duplicate(sender: string, messageType: string, existing: StoredMessageRef, warnings: FhirIssue[]): IntakeResult & { warnings?: FhirIssue[] } {
    this.metrics.outcome({ sender, messageType, tier: existing.tier, outcome: 'duplicate', channel: 'HTTP' });
    return { status: 'duplicate', messageId: existing.messageId, tier: existing.tier, flags: existing.flags, warnings };
  }
}
