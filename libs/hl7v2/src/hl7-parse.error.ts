import { ClinmeshError } from '@clinmesh/errors';

/**
 * HL7 table 0357 (message error condition codes). These are the codes a
 * receiver puts in ERR-3 / MSA-6 of a NAK, so every parse failure carries one:
 * the ingest service can answer the sender without re-deriving the reason.
 */
export const Hl7ErrorCode = {
  SegmentSequenceError: 100,
  RequiredFieldMissing: 101,
  DataTypeError: 102,
  TableValueNotFound: 103,
  UnsupportedMessageType: 200,
  UnsupportedEventCode: 201,
  UnsupportedProcessingId: 202,
  UnsupportedVersionId: 203,
  UnknownKeyIdentifier: 204,
  DuplicateKeyIdentifier: 205,
  ApplicationRecordLocked: 206,
  ApplicationInternalError: 207,
} as const;
export type Hl7ErrorCode = (typeof Hl7ErrorCode)[keyof typeof Hl7ErrorCode];

/** Text of each table 0357 code, used as ERR-3.2 / MSA-6.2 in NAKs. */
export const HL7_ERROR_CODE_TEXT: Readonly<Record<Hl7ErrorCode, string>> = {
  100: 'Segment sequence error',
  101: 'Required field missing',
  102: 'Data type error',
  103: 'Table value not found',
  200: 'Unsupported message type',
  201: 'Unsupported event code',
  202: 'Unsupported processing id',
  203: 'Unsupported version id',
  204: 'Unknown key identifier',
  205: 'Duplicate key identifier',
  206: 'Application record locked',
  207: 'Application internal error',
};

/**
 * Where in a message an error is (the HL7 ERL data type of ERR-2): segment id,
 * segment occurrence (1-based sequence in the message), field, repetition,
 * component, subcomponent. Missing parts are unknown.
 */
export interface Hl7ErrorLocation {
  segment: string;
  sequence?: number;
  field?: number;
  repetition?: number;
  component?: number;
  subcomponent?: number;
}

/**
 * The only error parsing and reading HL7 v2 input may throw. `code` is the
 * stable machine code (e.g. `HL7.PARSE.MISSING_MSH`, `HL7.ENCODING.INVALID`),
 * `hl7ErrorCode` the table 0357 code for the NAK, `location` the ERL. Never
 * retriable: the same bytes will fail the same way.
 */
export class Hl7ParseError extends ClinmeshError {
  readonly hl7ErrorCode: Hl7ErrorCode;
  readonly location: Hl7ErrorLocation | undefined;
  constructor(
    code: string,
    message: string,
    hl7ErrorCode: Hl7ErrorCode,
    location?: Hl7ErrorLocation,
    extra: { details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(code, message, {
      retriable: false,
      status: 400,
      details: { hl7ErrorCode, ...(location ? { location } : {}), ...extra.details },
      cause: extra.cause,
    });
    this.hl7ErrorCode = hl7ErrorCode;
    this.location = location;
  }
}

/**
 * A malformed accessor path such as `PID-x`. This is a programming error in
 * the caller, not bad input, so it is not an {@link Hl7ParseError}.
 */
export class Hl7PathError extends ClinmeshError {
  constructor(path: string, reason: string) {
    super('HL7.PATH.INVALID', `Invalid HL7 path "${path}": ${reason}`, { retriable: false, status: 500, details: { path } });
  }
}
