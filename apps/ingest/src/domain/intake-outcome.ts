/** Why a message was refused: a stable reason code, kept with the message for review. */
export type RejectionReason =
  | 'PARSE_ERROR'
  | 'UNSUPPORTED_VERSION'
  | 'UNSUPPORTED_TYPE'
  | 'ENCODING'
  | 'OVERSIZED'
  | 'DUPLICATE_CONFLICT'
  | 'UNKNOWN_SENDER'
  | 'INVALID_FHIR'
  | 'TOO_MANY_ENTRIES';

export type IntakeStatus = 'accepted' | 'duplicate' | 'rejected';

export interface IntakeResult {
  status: IntakeStatus;
  /** Id of the stored message (accepted / duplicate) or of the rejection. */
  messageId: string;
  /** The answer bytes: an HL7 ACK/NAK for v2; unused for FHIR. */
  ack?: string;
  ackCode?: 'AA' | 'AE' | 'AR';
  reason?: RejectionReason;
  detail?: string;
  tier?: string;
}
