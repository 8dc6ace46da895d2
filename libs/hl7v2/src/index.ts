/**
 * @clinmesh/hl7v2 — HL7 v2 parsing, building, acknowledgements and MLLP.
 * See README.md for the model, escape handling and known differences with
 * other libraries.
 */
export { Hl7ErrorCode, HL7_ERROR_CODE_TEXT, Hl7ParseError, Hl7PathError, type Hl7ErrorLocation } from './hl7-parse.error';
export { DEFAULT_HL7_DELIMITERS, encodingCharactersOf, type Hl7Delimiters } from './hl7-delimiters.model';
export { resolveHl7Charset, type Hl7Charset } from './hl7-charset.decoder';
export { escapeHl7, unescapeHl7, transcodeHl7 } from './hl7-escape.codec';
export { parseHl7Path, type Hl7Path } from './hl7-path.parser';
export { Hl7Message, Hl7Segment, Hl7Field, Hl7Repetition, Hl7Component, Hl7Subcomponent, type Hl7Header } from './hl7-message.model';
export { parseHl7Message, type Hl7ParseOptions } from './hl7-message.parser';
export { serializeHl7Message, type Hl7SerializeOptions } from './hl7-message.serializer';
export {
  Hl7MessageBuilder,
  type Hl7Value,
  type Hl7ComponentInput,
  type Hl7RepetitionInput,
  type Hl7FieldInput,
  type Hl7HdInput,
  type Hl7MshInput,
} from './hl7-message.builder';
export { splitHl7Batch, type Hl7BatchFile, type Hl7Batch, type Hl7BatchHeaderInfo, type Hl7BatchFailure } from './hl7-batch.splitter';
export { peekHl7Header } from './hl7-header.peeker';
export { readHl7DateTime, readHl7Date, type Hl7DateTime, type Hl7Date, type Hl7DateTimePrecision } from './hl7-datetime.reader';
export { formatHl7DateTime } from './hl7-datetime.writer';
export {
  buildAck,
  ackErrorFromParseError,
  ackRequirements,
  isAckWanted,
  ackCodeFor,
  type Hl7AckCode,
  type Hl7AckError,
  type Hl7AckOriginal,
  type Hl7AckOptions,
  type Hl7AckCondition,
  type Hl7AckRequirements,
} from './hl7-ack.builder';
export {
  MllpFrameDecoder,
  encodeMllpFrame,
  MLLP_START_BLOCK,
  MLLP_END_BLOCK,
  DEFAULT_MLLP_MAX_FRAME_BYTES,
  type MllpOversizedInfo,
  type MllpFrameDecoderEvents,
} from './mllp-frame.decoder';
export {
  createMllpServer,
  type MllpServer,
  type MllpServerOptions,
  type MllpServerEvent,
  type MllpConnectionContext,
  type MllpTlsOptions,
} from './mllp.server';
export { MllpClient, MllpClientError, type MllpClientTlsOptions } from './mllp.client';
