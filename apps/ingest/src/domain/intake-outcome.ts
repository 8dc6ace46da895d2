/**
 * Why a message was refused: a stable reason code, kept with the message for
 * review. (No duplicate reason: the same content is answered as a duplicate,
 * and new content under a used control id is accepted and flagged.)
 */
export type RejectionReason =
  | 'PARSE_ERROR'
  | 'UNSUPPORTED_VERSION'
  | 'UNSUPPORTED_TYPE'
  | 'ENCODING'
  | 'OVERSIZED'
  | 'UNKNOWN_SENDER'
  | 'RATE_LIMITED'
  | 'INVALID_FHIR'
  | 'TOO_MANY_ENTRIES';

export type IntakeStatus = 'accepted' | 'duplicate' | 'rejected';

export interface IntakeResult {
  status: IntakeStatus;
  /** Id of the stored message (accepted / duplicate) or of the rejection. */
  messageId: string;
  /** The application acknowledgement (AA/AE/AR) for HL7 v2: the HTTP body and what is stored; unused for FHIR. */
  ack?: string;
  ackCode?: 'AA' | 'AE' | 'AR';
  /**
   * What an MLLP peer is sent, per MSH-15/16: in original mode the
   * application ACK; in enhanced mode the accept ACK (CA/CE/CR) when MSH-15
   * asks for it, else the application ACK when MSH-16 asks for it, else
   * nothing (`undefined`).
   */
  reply?: string;
  /** Enhanced mode only: the accept (commit) acknowledgement code. */
  acceptAckCode?: 'CA' | 'CE' | 'CR';
  ackMode?: 'original' | 'enhanced';
  reason?: RejectionReason;
  detail?: string;
  tier?: string;
  /** Flags of an accepted message, e.g. `control-id-reuse`. */
  flags?: string[];
  /** RATE_LIMITED: when the sender may try again. */
  retryAfterSeconds?: number;
}
