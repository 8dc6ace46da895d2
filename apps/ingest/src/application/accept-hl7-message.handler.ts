import { createHash } from 'node:crypto';
import { Hl7ParseError, Hl7Message, ackErrorFromParseError, buildAck, parseHl7Message, peekHl7Header, serializeHl7Message, Hl7ErrorCode } from '@clinmesh/hl7v2';
import { deriveEventId, newEventId } from '@clinmesh/event-runtime';
import { sourcePatientKey } from '@clinmesh/security';
import { stageTopic } from '@clinmesh/topology';
import type { IngestedEvent } from '@clinmesh/schemas';
import { IntakeResult, RejectionReason } from '../domain/intake-outcome';
import { primaryIdentifier, readHl7IntakeFacts } from '../domain/hl7-intake';
import { TriageRules, triage } from '../domain/triage/triage.policy';
import { EventPublisherPort, IntakeMetricsPort, MessageStorePort } from './intake.ports';

export interface AcceptHl7Options {
  maxMessageBytes: number;
  /** When set, only these MSH-3 sending applications are accepted (AR otherwise). */
  allowedSenders?: ReadonlySet<string>;
  /** MSH-9.1 message types ingest routes; anything else is refused with AR (table 0357 code 200). */
  supportedMessageTypes: ReadonlySet<string>;
  receivingApplication: string;
  receivingFacility: string;
  patientKeySecret: string;
}

export interface Hl7Arrival {
  bytes: Buffer;
  channel: 'MLLP' | 'HTTP';
  receivedAt: number;
  /** Arrived in a batch file, or the sender asked for backfill handling. */
  bulkHint?: boolean;
}

/**
 * The HL7 v2 front door: parse, check, dedupe, triage, then store the raw
 * message and its IngestedEvent in one transaction and only then answer AA.
 * Content errors answer AE with an ERR segment (table 0357), messages not
 * accepted at all AR; both are kept with their reason. The same sender and
 * control id with the same content returns the original ACK and publishes
 * nothing; with different content it is refused as a conflicting duplicate.
 */
export class AcceptHl7MessageHandler {
  constructor(
    private readonly store: MessageStorePort,
    private readonly events: EventPublisherPort,
    private readonly metrics: IntakeMetricsPort,
    private readonly rules: TriageRules,
    private readonly options: AcceptHl7Options,
  ) {}

  async accept(arrival: Hl7Arrival): Promise<IntakeResult> {
    const { bytes, channel } = arrival;
    const contentHash = createHash('sha256').update(bytes).digest('hex');
    if (bytes.length > this.options.maxMessageBytes) {
      return this.reject(arrival, contentHash, 'OVERSIZED', `message is ${bytes.length} bytes; the limit is ${this.options.maxMessageBytes}`, 'AR', Hl7ErrorCode.ApplicationInternalError);
    }
    let message: Hl7Message;
    try {
      message = parseHl7Message(bytes, { maxBytes: this.options.maxMessageBytes });
    } catch (error) {
      if (!(error instanceof Hl7ParseError)) throw error;
      const reason: RejectionReason = error.hl7ErrorCode === Hl7ErrorCode.UnsupportedVersionId ? 'UNSUPPORTED_VERSION'
        : error.code.startsWith('HL7.ENCODING') ? 'ENCODING' : 'PARSE_ERROR';
      const code = reason === 'UNSUPPORTED_VERSION' ? 'AR' : 'AE';
      return this.reject(arrival, contentHash, reason, error.message, code, error.hl7ErrorCode, error);
    }
    const facts = readHl7IntakeFacts(message);
    const sender = `${facts.sendingApplication}^${facts.sendingFacility}`;
    if (this.options.allowedSenders && !this.options.allowedSenders.has(facts.sendingApplication)) {
      return this.reject(arrival, contentHash, 'UNKNOWN_SENDER', `sending application ${facts.sendingApplication || '(empty)'} is not on the allowlist`, 'AR', Hl7ErrorCode.ApplicationInternalError, undefined, message);
    }

    if (!this.options.supportedMessageTypes.has(message.header.messageType)) {
      return this.reject(arrival, contentHash, 'UNSUPPORTED_TYPE', `message type ${facts.messageType} is not supported`, 'AR', Hl7ErrorCode.UnsupportedMessageType, undefined, message);
    }
    const existing = await this.store.findBySenderAndControlId(null, sender, facts.controlId);
    if (existing) return this.duplicate(arrival, existing, contentHash, sender, facts.messageType, message);

    const { tier, ruleId } = triage(this.rules, { messageTypes: [facts.messageType], abnormalFlags: facts.abnormalFlags, bulkHint: arrival.bulkHint ?? false });
    const messageId = newEventId();
    const ack = this.ack(message, 'AA', messageId);
    const patient = primaryIdentifier(facts.patientIdentifiers);
    const key = patient ? sourcePatientKey(this.options.patientKeySecret, patient.system, patient.value) : '';
    const event: IngestedEvent = {
      eventId: deriveEventId(messageId, 'ingested'),
      correlationId: messageId,
      receivedAt: arrival.receivedAt,
      tier,
      triageRule: ruleId,
      source: { system: facts.sendingApplication, facility: facts.sendingFacility, channel },
      format: 'HL7V2',
      messageType: facts.messageType,
      controlId: facts.controlId,
      version: facts.version,
      sourcePatientKey: key,
      patientIdentifiers: facts.patientIdentifiers,
      contentType: 'x-application/hl7-v2+er7',
      raw: bytes,
    };
    try {
      await this.events.transaction(async (uow) => {
        await this.store.insertAccepted(uow, {
          messageId, sender, controlId: facts.controlId, contentHash, format: 'HL7V2', channel, messageType: facts.messageType,
          tier, triageRule: ruleId, receivedAt: arrival.receivedAt, raw: bytes, ack,
        });
        await this.events.publish(uow, { topic: stageTopic('ingested', tier), key: key || null, value: event, tier });
      });
    } catch (error) {
      // Two copies raced: the unique (sender, control id) index let one in; answer the other as its duplicate.
      if ((error as { code?: string }).code === '23505') {
        const winner = await this.store.findBySenderAndControlId(null, sender, facts.controlId);
        if (winner) return this.duplicate(arrival, winner, contentHash, sender, facts.messageType, message);
      }
      throw error;
    }
    this.metrics.outcome({ sender, messageType: facts.messageType, tier, outcome: 'accepted', channel });
    return { status: 'accepted', messageId, ack, ackCode: 'AA', tier };
  }

  private async duplicate(arrival: Hl7Arrival, existing: { messageId: string; contentHash: string; ack: string | null; tier: string }, contentHash: string, sender: string, messageType: string, message: Hl7Message): Promise<IntakeResult> {
    if (existing.contentHash === contentHash) {
      this.metrics.outcome({ sender, messageType, tier: existing.tier, outcome: 'duplicate', channel: arrival.channel });
      return { status: 'duplicate', messageId: existing.messageId, ack: existing.ack ?? this.ack(message, 'AA', existing.messageId), ackCode: 'AA', tier: existing.tier };
    }
    return this.reject(arrival, contentHash, 'DUPLICATE_CONFLICT', `control id ${message.header.controlId} was already used by this sender for a different message (${existing.messageId})`, 'AE', Hl7ErrorCode.DuplicateKeyIdentifier, undefined, message);
  }

  private async reject(
    arrival: Hl7Arrival, contentHash: string, reason: RejectionReason, detail: string, code: 'AE' | 'AR', hl7Code: number,
    parseError?: Hl7ParseError, message?: Hl7Message,
  ): Promise<IntakeResult> {
    const id = newEventId();
    const peek = message ? undefined : peekHl7Header(arrival.bytes.subarray(0, 4096));
    const messageType = message ? readHl7IntakeFacts(message).messageType : peek?.messageType ?? null;
    const controlId = message?.header.controlId ?? peek?.controlId ?? null;
    const sender = message ? `${message.header.sendingApplication ?? ''}^${message.header.sendingFacility ?? ''}` : `${hdText(peek?.sendingApplication)}^${hdText(peek?.sendingFacility)}`;
    await this.store.insertRejection({
      id, sender, channel: arrival.channel, messageType, controlId, reason, detail, receivedAt: arrival.receivedAt, contentHash,
      raw: arrival.bytes.subarray(0, Math.min(arrival.bytes.length, this.options.maxMessageBytes)),
    });
    const errors = [parseError ? ackErrorFromParseError(parseError) : { code: hl7Code, severity: 'E' as const, text: detail }];
    const ackMessage = buildAck(message ?? peek ?? {}, {
      code, textMessage: detail.slice(0, 80), errors, controlId: `NAK-${id.slice(0, 18)}`,
      sendingApplication: this.options.receivingApplication, sendingFacility: this.options.receivingFacility,
    });
    this.metrics.outcome({ sender, messageType: messageType ?? 'unknown', tier: 'none', outcome: 'rejected', reason, channel: arrival.channel });
    return { status: 'rejected', messageId: id, ack: serializeHl7Message(ackMessage), ackCode: code, reason, detail };
  }

  private ack(message: Hl7Message, code: 'AA', messageId: string): string {
    return serializeHl7Message(buildAck(message, {
      code, controlId: `ACK-${messageId.slice(0, 18)}`, sendingApplication: this.options.receivingApplication, sendingFacility: this.options.receivingFacility,
    }));
  }
}

function hdText(v: unknown): string {
  if (typeof v === 'string') return v;
  const hd = v as { namespaceId?: string } | undefined;
  return hd?.namespaceId ?? '';
}
