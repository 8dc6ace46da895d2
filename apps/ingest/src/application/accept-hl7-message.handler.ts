import {
  Hl7AckError, Hl7ParseError, Hl7Message, ackCodeFor, ackErrorFromParseError, ackRequirements, buildAck, isAckWanted, parseHl7Message, peekHl7Header,
  serializeHl7Message, Hl7ErrorCode,
} from '@clinmesh/hl7v2';
import { deriveEventId, newEventId } from '@clinmesh/event-runtime';
import { sourcePatientKey } from '@clinmesh/security';
import { stageTopic } from '@clinmesh/topology';
import type { IngestedEvent } from '@clinmesh/schemas';
import { IntakeResult, RejectionReason } from '../domain/intake-outcome';
import { CONTROL_ID_REUSE, contentHash as contentHashOf } from '../domain/message-content';
import { intakeMessageId } from './message-identity';
import { primaryIdentifier, readHl7IntakeFacts } from '../domain/hl7-intake';
import { TriageRules, triage } from '../domain/triage/triage.policy';
import { SenderRateLimiter } from '../domain/rate-limit/sender-rate.limiter';
import { IntakeMetricsPort, MessageStorePort, messageOrigin } from './intake.ports';
import { AcceptedMessageWriter } from './accepted-message.writer';
import type { BulkIntakePacer } from './bulk-intake.pacer';

export interface AcceptHl7Options {
  maxMessageBytes: number;
  /** When set, only these MSH-3 sending applications are accepted (AR otherwise). */
  allowedSenders?: ReadonlySet<string>;
  /** MSH-9.1 message types ingest routes; anything else is refused with AR (table 0357 code 200). */
  supportedMessageTypes: ReadonlySet<string>;
  receivingApplication: string;
  receivingFacility: string;
  patientKeySecret: string;
  /** Request rate per sender (`MSH-3^MSH-4`); refusals are AR + kept as RATE_LIMITED. */
  rateLimiter?: SenderRateLimiter;
  /** Told of every accepted message's tier: batch-file intake gives way while stat or urgent ones arrive. */
  pacer?: BulkIntakePacer;
}

export interface Hl7Arrival {
  bytes: Buffer;
  channel: 'MLLP' | 'HTTP';
  receivedAt: number;
  /** Arrived in a batch file, or the sender asked for backfill handling. */
  bulkHint?: boolean;
  /** The request this message came in (a batch) was already charged against the sender's rate. */
  rateCharged?: boolean;
}

type AckOutcome = 'accept' | 'error' | 'reject';

/**
 * The HL7 v2 front door: parse, check, dedupe, triage, then store the raw
 * message and its IngestedEvent in one transaction and only then answer AA.
 * Content errors answer AE with an ERR segment (table 0357), messages not
 * accepted at all AR; both are kept with their reason. The same sender,
 * control id and content (line endings normalised) is a duplicate: the
 * original ACK, nothing published. The same sender and control id with other
 * content is a new message: accepted, published, flagged `control-id-reuse`
 * and counted — never refused (senders reset their counters, and refusing
 * would lose clinical content).
 *
 * Enhanced acknowledgement mode (MSH-15/16 not both empty) is honoured for
 * the MLLP reply (`IntakeResult.reply`): ingest commits and validates in the
 * same step, so both acknowledgements are known at once; the connection
 * carries at most one answer per message (MLLP pairs answers by position):
 * the accept ACK (CA/CE/CR) if MSH-15 asks for it, else the application ACK
 * if MSH-16 asks for it, else nothing. `IntakeResult.ack` is always the
 * application ACK (the HTTP body; stored with the message).
 */
export class AcceptHl7MessageHandler {
  constructor(
    private readonly store: MessageStorePort,
    private readonly writer: AcceptedMessageWriter,
    private readonly metrics: IntakeMetricsPort,
    private readonly rules: TriageRules,
    private readonly options: AcceptHl7Options,
  ) {}

  async accept(arrival: Hl7Arrival): Promise<IntakeResult> {
    const result = await this.acceptOne(arrival);
    if (result.status === 'accepted') this.options.pacer?.accepted(result.tier);
    return result;
  }

  private async acceptOne(arrival: Hl7Arrival): Promise<IntakeResult> {
    const { bytes, channel } = arrival;
    const contentHash = contentHashOf(bytes);
    if (bytes.length > this.options.maxMessageBytes) {
      return this.reject(arrival, contentHash, 'OVERSIZED', `message is ${bytes.length} bytes; the limit is ${this.options.maxMessageBytes}`, 'AR', Hl7ErrorCode.DataTypeError);
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
    if (!arrival.rateCharged && this.options.rateLimiter) {
      const decision = this.options.rateLimiter.take(sender);
      if (!decision.allowed) {
        const retryAfterSeconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
        const result = await this.reject(arrival, contentHash, 'RATE_LIMITED',
          `sender ${sender} exceeded its rate limit of ${decision.limit.ratePerSecond} messages/s (burst ${decision.limit.burst}); retry after ${retryAfterSeconds} s`,
          'AR', Hl7ErrorCode.ApplicationInternalError, undefined, message);
        return { ...result, retryAfterSeconds };
      }
    }
    if (!this.options.supportedMessageTypes.has(message.header.messageType)) {
      return this.reject(arrival, contentHash, 'UNSUPPORTED_TYPE', `message type ${facts.messageType} is not supported`, 'AR', Hl7ErrorCode.UnsupportedMessageType, undefined, message);
    }
    const { tier, ruleId } = triage(this.rules, { messageTypes: [facts.messageType], abnormalFlags: facts.abnormalFlags, bulkHint: arrival.bulkHint ?? false });
    const messageId = intakeMessageId('HL7V2', sender, facts.controlId, contentHash);
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
    // Dedupe is the unique (sender, control id, content) index: a copy already stored (or racing in now) writes nothing.
    const stored = await this.writer.write({
      row: {
        messageId, sender, controlId: facts.controlId, contentHash, format: 'HL7V2', channel, messageType: facts.messageType,
        tier, triageRule: ruleId, receivedAt: arrival.receivedAt, raw: bytes, ack,
      },
      origin: messageOrigin(event),
      event: { topic: stageTopic('ingested', tier), key: key || null, value: event },
    });
    if (!stored) {
      const existing = await this.store.findDuplicate(null, sender, facts.controlId, contentHash);
      if (!existing) throw new Error('in_message conflict without a stored row (deleted concurrently?)');
      this.metrics.outcome({ sender, messageType: facts.messageType, tier: existing.tier, outcome: 'duplicate', channel });
      const original = existing.ack ?? this.ack(message, 'AA', existing.messageId);
      return { status: 'duplicate', messageId: existing.messageId, ack: original, ackCode: 'AA', tier: existing.tier, flags: existing.flags, ...this.replyFor(message, 'accept', original, existing.messageId) };
    }
    this.metrics.outcome({ sender, messageType: facts.messageType, tier, outcome: 'accepted', channel });
    if (stored.flags.includes(CONTROL_ID_REUSE)) this.metrics.controlIdReuse({ sender, messageType: facts.messageType, channel, format: 'HL7V2' });
    return { status: 'accepted', messageId, ack, ackCode: 'AA', tier, flags: stored.flags, ...this.replyFor(message, 'accept', ack, messageId) };
  }

  /**
   * Charges a whole batch request (FHS/BHS file) to its sender's rate: one
   * token per request. A refused batch is kept as a RATE_LIMITED rejection.
   */
  async chargeBatch(bytes: Buffer, sender: string, receivedAt: number): Promise<{ retryAfterSeconds: number; detail: string; rejectionId: string } | undefined> {
    const decision = this.options.rateLimiter?.take(sender);
    if (!decision || decision.allowed) return undefined;
    const retryAfterSeconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
    const detail = `sender ${sender} exceeded its rate limit of ${decision.limit.ratePerSecond} requests/s (burst ${decision.limit.burst}); retry the batch after ${retryAfterSeconds} s`;
    const id = newEventId();
    await this.store.insertRejection({
      id, sender, channel: 'HTTP', messageType: 'BATCH', controlId: null, reason: 'RATE_LIMITED', detail, receivedAt,
      contentHash: contentHashOf(bytes), raw: bytes.subarray(0, Math.min(bytes.length, this.options.maxMessageBytes)),
    });
    this.metrics.outcome({ sender, messageType: 'BATCH', tier: 'none', outcome: 'rejected', reason: 'RATE_LIMITED', channel: 'HTTP' });
    return { retryAfterSeconds, detail, rejectionId: id };
  }

  /**
   * An MLLP frame dropped for size before it could be read whole: kept as an
   * OVERSIZED rejection (with its first bytes) and answered AR 102 in its
   * place in the connection's order.
   */
  async rejectOversizedFrame(head: Buffer, bytesSeen: number, maxFrameBytes: number, receivedAt: number): Promise<IntakeResult> {
    const contentHash = contentHashOf(head);
    return this.reject({ bytes: head, channel: 'MLLP', receivedAt }, contentHash, 'OVERSIZED',
      `frame of at least ${bytesSeen} bytes exceeds the limit of ${maxFrameBytes}; only its first ${head.length} bytes were kept`, 'AR', Hl7ErrorCode.DataTypeError);
  }

  private async reject(
    arrival: Hl7Arrival, contentHash: string, reason: RejectionReason, detail: string, code: 'AE' | 'AR', hl7Code: number,
    parseError?: Hl7ParseError, message?: Hl7Message,
  ): Promise<IntakeResult> {
    const id = newEventId();
    const peek = message ? undefined : peekHl7Header(arrival.bytes.subarray(0, 4096));
    const messageType = message ? readHl7IntakeFacts(message).messageType : peekType(peek) ?? null;
    const controlId = message?.header.controlId ?? peek?.controlId ?? null;
    const sender = message ? `${message.header.sendingApplication ?? ''}^${message.header.sendingFacility ?? ''}` : `${hdText(peek?.sendingApplication)}^${hdText(peek?.sendingFacility)}`;
    await this.store.insertRejection({
      id, sender, channel: arrival.channel, messageType, controlId, reason, detail, receivedAt: arrival.receivedAt, contentHash,
      raw: arrival.bytes.subarray(0, Math.min(arrival.bytes.length, this.options.maxMessageBytes)),
    });
    const errors: Hl7AckError[] = [parseError ? ackErrorFromParseError(parseError) : { code: hl7Code, severity: 'E', text: detail }];
    const ackMessage = buildAck(message ?? peek ?? {}, {
      code, textMessage: detail.slice(0, 80), errors, controlId: `NAK-${id.slice(0, 18)}`,
      sendingApplication: this.options.receivingApplication, sendingFacility: this.options.receivingFacility,
    });
    this.metrics.outcome({ sender, messageType: messageType ?? 'unknown', tier: 'none', outcome: 'rejected', reason, channel: arrival.channel });
    const ack = serializeHl7Message(ackMessage);
    return {
      status: 'rejected', messageId: id, ack, ackCode: code, reason, detail,
      ...this.replyFor(message, code === 'AE' ? 'error' : 'reject', ack, id, errors, detail),
    };
  }

  private ack(message: Hl7Message, code: 'AA', messageId: string): string {
    return serializeHl7Message(buildAck(message, {
      code, controlId: `ACK-${messageId.slice(0, 18)}`, sendingApplication: this.options.receivingApplication, sendingFacility: this.options.receivingFacility,
    }));
  }

  /**
   * The MLLP answer per MSH-15/16. Input that could not be parsed is
   * answered in original mode: its MSH-15/16 cannot be trusted, and an
   * unanswered bad message would only be re-sent.
   */
  private replyFor(message: Hl7Message | undefined, outcome: AckOutcome, applicationAck: string, id: string, errors?: Hl7AckError[], detail?: string): Pick<IntakeResult, 'reply' | 'acceptAckCode' | 'ackMode'> {
    const wanted = message ? ackRequirements(message.header) : undefined;
    if (!message || !wanted || wanted.mode === 'original') return { reply: applicationAck, ackMode: 'original' };
    const success = outcome === 'accept';
    const acceptAckCode = ackCodeFor('accept', outcome, 'enhanced') as 'CA' | 'CE' | 'CR';
    if (isAckWanted(wanted.acceptAck, success)) {
      const commit = serializeHl7Message(buildAck(message, {
        code: acceptAckCode, controlId: `${acceptAckCode}-${id.slice(0, 18)}`, errors, textMessage: detail?.slice(0, 80),
        sendingApplication: this.options.receivingApplication, sendingFacility: this.options.receivingFacility,
      }));
      return { reply: commit, acceptAckCode, ackMode: 'enhanced' };
    }
    if (isAckWanted(wanted.applicationAck, success)) return { reply: applicationAck, acceptAckCode, ackMode: 'enhanced' };
    return { reply: undefined, acceptAckCode, ackMode: 'enhanced' };
  }
}

function peekType(peek: ReturnType<typeof peekHl7Header>): string | undefined {
  if (!peek?.messageType) return undefined;
  return peek.triggerEvent ? `${peek.messageType}^${peek.triggerEvent}` : peek.messageType;
}

function hdText(v: unknown): string {
  if (typeof v === 'string') return v;
  const hd = v as { namespaceId?: string } | undefined;
  return hd?.namespaceId ?? '';
}
