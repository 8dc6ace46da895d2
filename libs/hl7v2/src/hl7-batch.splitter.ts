import { UTF8_CHARSET } from './hl7-charset.decoder';
import { DEFAULT_HL7_DELIMITERS, type Hl7Delimiters } from './hl7-delimiters.model';
import { Hl7Message, Hl7Segment } from './hl7-message.model';
import { parseHl7Message, readDelimiters, type Hl7ParseOptions } from './hl7-message.parser';
import { Hl7ErrorCode, Hl7ParseError } from './hl7-parse.error';

/** FHS or BHS content (same layout: FHS-3…FHS-12 / BHS-3…BHS-12). */
export interface Hl7BatchHeaderInfo {
  readonly segment: 'FHS' | 'BHS';
  readonly delimiters: Hl7Delimiters;
  readonly sendingApplication?: string;
  readonly sendingFacility?: string;
  readonly receivingApplication?: string;
  readonly receivingFacility?: string;
  readonly dateTime?: string;
  /** FHS-9/BHS-9 file or batch name/id/type. */
  readonly name?: string;
  readonly comment?: string;
  readonly controlId?: string;
  readonly referenceControlId?: string;
}

/** A message of the file that failed to parse, kept with its text for review. */
export interface Hl7BatchFailure {
  /** 0-based position among the messages of the file. */
  readonly index: number;
  readonly error: Hl7ParseError;
  readonly input: Buffer | string;
}

/** One BHS…BTS batch (or the implicit batch when BHS is missing). */
export interface Hl7Batch {
  readonly header?: Hl7BatchHeaderInfo;
  /** BTS-1 as declared. */
  trailerMessageCount?: number;
  readonly messages: Hl7Message[];
  readonly failures: Hl7BatchFailure[];
}

/** The result of {@link splitHl7Batch}. */
export interface Hl7BatchFile {
  readonly fileHeader?: Hl7BatchHeaderInfo;
  /** FTS-1 (batch count) as declared. */
  readonly fileTrailerBatchCount?: number;
  readonly batches: Hl7Batch[];
  /** Every successfully parsed message in file order. */
  readonly messages: Hl7Message[];
  /** Every message that failed to parse (also listed per batch). */
  readonly failures: Hl7BatchFailure[];
  /** Count mismatches, stray segments and other oddities that did not stop the split. */
  readonly warnings: string[];
}

function headerInfo(line: string, segment: 'FHS' | 'BHS'): Hl7BatchHeaderInfo {
  let delimiters = DEFAULT_HL7_DELIMITERS;
  try {
    delimiters = readDelimiters(line, segment);
  } catch {
    // A damaged FHS must not cost the messages inside; read it with defaults.
  }
  // FHS/BHS number their fields like MSH, so read them as one.
  const s = new Hl7Segment('MSH', 'MSH' + line.slice(3), { delimiters, charset: UTF8_CHARSET }, 0, 1);
  return {
    segment,
    delimiters,
    sendingApplication: s.value(3),
    sendingFacility: s.value(4),
    receivingApplication: s.value(5),
    receivingFacility: s.value(6),
    dateTime: s.value(7),
    name: s.value(9),
    comment: s.value(10),
    controlId: s.value(11),
    referenceControlId: s.value(12),
  };
}

function trailerCount(line: string): number | undefined {
  const sep = line[3];
  if (!sep) return undefined;
  const v = line.split(sep)[1];
  return v && /^\d+$/.test(v) ? Number(v) : undefined;
}

/**
 * Splits an HL7 batch file (`FHS BHS MSH… BTS FTS`) into messages. Tolerant:
 * FHS/FTS and BHS/BTS may be missing (a bare run of messages is one implicit
 * batch), several batches per file are kept apart, a message that fails to
 * parse is reported in `failures` and the split goes on. Byte input is cut at
 * segment boundaries before decoding, so each message is decoded by its own
 * MSH-18 and keeps its exact bytes in `raw`.
 */
export function splitHl7Batch(input: Buffer | string, opts: Hl7ParseOptions = {}): Hl7BatchFile {
  // latin1 maps each byte to one char, so indices in `view` are byte offsets.
  const view = typeof input === 'string' ? input : input.toString('latin1');
  const slice = (a: number, b: number): Buffer | string => (typeof input === 'string' ? input.slice(a, b) : input.subarray(a, b));
  const lineText = (a: number, b: number): string => (typeof input === 'string' ? input.slice(a, b) : input.toString('utf8', a, b));

  let fileHeader: Hl7BatchHeaderInfo | undefined;
  let fileTrailerBatchCount: number | undefined;
  const batches: Hl7Batch[] = [];
  const messages: Hl7Message[] = [];
  const failures: Hl7BatchFailure[] = [];
  const warnings: string[] = [];
  let batch: Hl7Batch | undefined;
  let msgStart = -1;
  let msgEnd = -1;
  let index = 0;

  const currentBatch = (): Hl7Batch => {
    if (!batch) {
      batch = { messages: [], failures: [] };
      batches.push(batch);
    }
    return batch;
  };
  const flush = (): void => {
    if (msgStart < 0) return;
    const part = slice(msgStart, msgEnd);
    const b = currentBatch();
    try {
      const m = parseHl7Message(part, opts);
      b.messages.push(m);
      messages.push(m);
    } catch (e) {
      const error = e instanceof Hl7ParseError ? e : new Hl7ParseError('HL7.PARSE.INTERNAL', String(e), Hl7ErrorCode.ApplicationInternalError);
      const f = { index, error, input: part };
      b.failures.push(f);
      failures.push(f);
    }
    index++;
    msgStart = -1;
  };
  const closeBatch = (): void => {
    if (batch && batch.trailerMessageCount !== undefined && batch.trailerMessageCount !== batch.messages.length + batch.failures.length) {
      warnings.push(`BTS-1 declares ${batch.trailerMessageCount} messages, found ${batch.messages.length + batch.failures.length}`);
    }
    batch = undefined;
  };

  let pos = view.charCodeAt(0) === 0xfeff ? 1 : view.startsWith('\xef\xbb\xbf') ? 3 : 0;
  while (pos < view.length) {
    let end = pos;
    while (end < view.length && view.charCodeAt(end) !== 13 && view.charCodeAt(end) !== 10) end++;
    // The message keeps its terminators so `raw` is the exact bytes sent.
    const stop = view.charCodeAt(end) === 13 && view.charCodeAt(end + 1) === 10 ? end + 2 : Math.min(end + 1, view.length);
    if (end > pos) {
      const id = view.slice(pos, pos + 3);
      if (id === 'MSH') {
        flush();
        msgStart = pos;
        msgEnd = stop;
      } else if (id === 'FHS' || id === 'BHS' || id === 'BTS' || id === 'FTS') {
        flush();
        const line = lineText(pos, end);
        if (id === 'FHS') {
          if (fileHeader) warnings.push('Second FHS ignored');
          else fileHeader = headerInfo(line, 'FHS');
        } else if (id === 'BHS') {
          closeBatch();
          batch = { header: headerInfo(line, 'BHS'), messages: [], failures: [] };
          batches.push(batch);
        } else if (id === 'BTS') {
          currentBatch().trailerMessageCount = trailerCount(line);
          closeBatch();
        } else {
          fileTrailerBatchCount = trailerCount(line);
        }
      } else if (msgStart >= 0) {
        msgEnd = stop;
      } else if (view.slice(pos, end).trim() !== '') {
        warnings.push(`Segment ${JSON.stringify(id)} outside any message ignored`);
      }
    }
    pos = stop > end ? stop : end + 1;
  }
  flush();
  closeBatch();
  if (fileTrailerBatchCount !== undefined && fileTrailerBatchCount !== batches.length) {
    warnings.push(`FTS-1 declares ${fileTrailerBatchCount} batches, found ${batches.length}`);
  }
  return { fileHeader, fileTrailerBatchCount, batches, messages, failures, warnings };
}
