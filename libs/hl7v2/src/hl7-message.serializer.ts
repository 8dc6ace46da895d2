import { encodingCharactersOf, type Hl7Delimiters } from './hl7-delimiters.model';
import { transcodeHl7 } from './hl7-escape.codec';
import type { Hl7Message, Hl7Segment } from './hl7-message.model';

/** Options of {@link serializeHl7Message}. */
export interface Hl7SerializeOptions {
  /** Segment terminator; HL7 mandates CR, files often want LF or CRLF. Default `\r`. */
  segmentTerminator?: '\r' | '\n' | '\r\n';
  /** Terminate the last segment too (default true; MLLP peers expect it). */
  trailingTerminator?: boolean;
  /**
   * Write with other delimiters than the message was read with. Every leaf is
   * re-escaped: values containing the new delimiters get escape sequences,
   * escape sequences standing for old delimiters become literal when allowed,
   * and formatting / local sequences (`\.br\`, `\Zxx\`, `\Xhh\`) are kept.
   */
  delimiters?: Hl7Delimiters;
}

function sameDelimiters(a: Hl7Delimiters, b: Hl7Delimiters): boolean {
  return a.field === b.field && encodingCharactersOf(a) === encodingCharactersOf(b);
}

function transcodeField(raw: string, from: Hl7Delimiters, to: Hl7Delimiters): string {
  return raw
    .split(from.repetition)
    .map((rep) => rep.split(from.component).map((comp) => comp.split(from.subcomponent).map((leaf) => transcodeHl7(leaf, from, to)).join(to.subcomponent)).join(to.component))
    .join(to.repetition);
}

function transcodeSegment(seg: Hl7Segment, from: Hl7Delimiters, to: Hl7Delimiters): string {
  const parts = [seg.id];
  if (seg.id === 'MSH') parts.push(encodingCharactersOf(to));
  for (let n = seg.id === 'MSH' ? 3 : 1; n <= seg.fieldCount; n++) parts.push(transcodeField(seg.fieldRaw(n) ?? '', from, to));
  return parts.join(to.field);
}

/**
 * Writes a message as HL7 text. Field text is kept exactly as parsed (so
 * escape sequences and empty trailing fields survive); only terminators are
 * normalised, and, with `delimiters`, every value is re-escaped.
 * `parseHl7Message(serializeHl7Message(m))` has the same segments, fields and
 * values as `m`.
 */
export function serializeHl7Message(msg: Hl7Message, opts: Hl7SerializeOptions = {}): string {
  const term = opts.segmentTerminator ?? '\r';
  const from = msg.delimiters;
  const to = opts.delimiters;
  const lines = msg.segments().map((s) => (to && !sameDelimiters(from, to) ? transcodeSegment(s, from, to) : s.raw));
  return lines.join(term) + (opts.trailingTerminator === false ? '' : term);
}
