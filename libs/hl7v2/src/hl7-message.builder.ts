import { formatHl7DateTime } from './hl7-datetime.writer';
import { DEFAULT_HL7_DELIMITERS, encodingCharactersOf, type Hl7Delimiters } from './hl7-delimiters.model';
import { escapeHl7 } from './hl7-escape.codec';
import type { Hl7Message } from './hl7-message.model';
import { parseHl7Message } from './hl7-message.parser';
import { parseHl7Path } from './hl7-path.parser';
import { Hl7PathError } from './hl7-parse.error';

/** A primitive value; `null`/`undefined` write an empty element. Values are escaped on write. */
export type Hl7Value = string | number | null | undefined;
/** A component: a value, or an array of subcomponent values. */
export type Hl7ComponentInput = Hl7Value | readonly Hl7Value[];
/** One repetition: a value, or an array of components. */
export type Hl7RepetitionInput = Hl7Value | readonly Hl7ComponentInput[];
/** A field: one repetition, or `{ repetitions: [...] }` for repeating fields. */
export type Hl7FieldInput = Hl7RepetitionInput | { readonly repetitions: readonly Hl7RepetitionInput[] };
/** A hierarchic designator (HD) as a plain namespace id or its three parts. */
export type Hl7HdInput = string | { namespaceId?: string; universalId?: string; universalIdType?: string };

/** MSH content for {@link Hl7MessageBuilder.msh}; MSH-1/2 come from the builder's delimiters. */
export interface Hl7MshInput {
  sendingApplication?: Hl7HdInput;
  sendingFacility?: Hl7HdInput;
  receivingApplication?: Hl7HdInput;
  receivingFacility?: Hl7HdInput;
  /** MSH-7; a Date is written in UTC with `+0000`. Default: now. */
  dateTime?: string | Date;
  messageType: string;
  triggerEvent?: string;
  messageStructure?: string;
  controlId: string;
  /** MSH-11, default `P`. */
  processingId?: string;
  /** MSH-12, default `2.5.1`. */
  version?: string;
  acceptAckType?: string;
  applicationAckType?: string;
  charset?: string;
}

function hd(v: Hl7HdInput | undefined): Hl7RepetitionInput {
  if (v === undefined || typeof v === 'string') return v;
  return [v.namespaceId, v.universalId, v.universalIdType];
}

function str(v: Hl7Value): string {
  return v === null || v === undefined ? '' : String(v);
}

function trimEmpty(parts: string[]): string[] {
  let n = parts.length;
  while (n > 1 && parts[n - 1] === '') n--;
  return parts.slice(0, n);
}

/**
 * Builds messages programmatically (ACKs, tests, outbound feeds). Every value
 * handed in is an unescaped value and is escaped for the builder's
 * delimiters, so any text — including `|^~\&`, CR/LF and unicode — survives a
 * round trip. `build()` parses the result, so a built message is exactly what
 * a receiver will see (and missing MSH-9/10/12 fail loudly).
 */
export class Hl7MessageBuilder {
  readonly delimiters: Hl7Delimiters;
  private readonly segs: Array<{ id: string; fields: string[] }> = [];

  constructor(opts: { delimiters?: Hl7Delimiters } = {}) {
    this.delimiters = opts.delimiters ?? DEFAULT_HL7_DELIMITERS;
  }

  /** Encodes one field input to its escaped text. */
  encodeField(input: Hl7FieldInput): string {
    const d = this.delimiters;
    const reps = input !== null && typeof input === 'object' && 'repetitions' in input ? input.repetitions : [input as Hl7RepetitionInput];
    const encComp = (c: Hl7ComponentInput): string => (Array.isArray(c) ? trimEmpty(c.map((s: Hl7Value) => escapeHl7(str(s), d))).join(d.subcomponent) : escapeHl7(str(c as Hl7Value), d));
    const encRep = (r: Hl7RepetitionInput): string => (Array.isArray(r) ? trimEmpty(r.map((c: Hl7ComponentInput) => encComp(c))).join(d.component) : escapeHl7(str(r as Hl7Value), d));
    const out = reps.map(encRep);
    return out.every((r) => r === '') ? '' : out.join(d.repetition);
  }

  /** Sets MSH (always the first segment, replacing any previous one). */
  msh(h: Hl7MshInput): this {
    const dt = h.dateTime ?? new Date();
    const values: Hl7FieldInput[] = [];
    values[3] = hd(h.sendingApplication);
    values[4] = hd(h.sendingFacility);
    values[5] = hd(h.receivingApplication);
    values[6] = hd(h.receivingFacility);
    values[7] = typeof dt === 'string' ? dt : formatHl7DateTime(dt);
    values[9] = [h.messageType, h.triggerEvent, h.messageStructure];
    values[10] = h.controlId;
    values[11] = h.processingId ?? 'P';
    values[12] = h.version ?? '2.5.1';
    values[15] = h.acceptAckType;
    values[16] = h.applicationAckType;
    values[18] = h.charset;
    const fields = ['', this.delimiters.field, encodingCharactersOf(this.delimiters)];
    for (let n = 3; n < values.length; n++) fields[n] = this.encodeField(values[n]);
    const seg = { id: 'MSH', fields };
    if (this.segs[0]?.id === 'MSH') this.segs[0] = seg;
    else this.segs.unshift(seg);
    return this;
  }

  /**
   * Appends a segment; `fields[0]` is field 1. For MSH use {@link msh} or
   * {@link mshRaw}.
   */
  segment(id: string, fields: readonly Hl7FieldInput[] = []): this {
    if (!/^[A-Z][A-Z0-9]{2}$/.test(id) || id === 'MSH') throw new Hl7PathError(id, 'segment id must be 3 upper-case letters/digits (MSH via msh())');
    this.segs.push({ id, fields: ['', ...fields.map((f) => this.encodeField(f))] });
    return this;
  }

  /**
   * Appends a segment from already-escaped field texts (field 1 first), for
   * copying fields from a parsed message verbatim. For MSH, the list starts at
   * MSH-3 and the segment becomes the first one.
   */
  segmentRaw(id: string, rawFields: readonly string[]): this {
    if (id === 'MSH') {
      const seg = { id, fields: ['', this.delimiters.field, encodingCharactersOf(this.delimiters), ...rawFields] };
      if (this.segs[0]?.id === 'MSH') this.segs[0] = seg;
      else this.segs.unshift(seg);
    } else {
      this.segs.push({ id, fields: ['', ...rawFields] });
    }
    return this;
  }

  /**
   * Sets one value by path (`PID-3[2].4.1`, `OBX(2)-5`), growing fields,
   * repetitions and components as needed. Addressing occurrence n+1 of a
   * segment appends it. With only `SEG-f`, the whole field takes `value`
   * (which may then be a structured {@link Hl7FieldInput}).
   */
  set(path: string, value: Hl7FieldInput): this {
    const p = parseHl7Path(path);
    if (p.segment === 'MSH' && p.field <= 2) throw new Hl7PathError(path, 'MSH-1 and MSH-2 are the delimiters; choose them in the constructor');
    const matching = this.segs.filter((s) => s.id === p.segment);
    const occ = p.occurrence ?? 1;
    let seg = matching[occ - 1];
    if (!seg) {
      if (occ !== matching.length + 1) throw new Hl7PathError(path, `segment occurrence ${occ} would leave a gap`);
      if (p.segment === 'MSH') throw new Hl7PathError(path, 'create MSH with msh()');
      seg = { id: p.segment, fields: [''] };
      this.segs.push(seg);
    }
    const d = this.delimiters;
    if (p.repetition === undefined && p.component === undefined) {
      seg.fields[p.field] = this.encodeField(value);
    } else {
      const reps = (seg.fields[p.field] ?? '').split(d.repetition);
      const ri = (p.repetition ?? 1) - 1;
      while (reps.length <= ri) reps.push('');
      const comps = reps[ri].split(d.component);
      const ci = (p.component ?? 1) - 1;
      while (comps.length <= ci) comps.push('');
      if (p.subcomponent === undefined) {
        const c = value as Hl7ComponentInput;
        comps[ci] = Array.isArray(c) ? c.map((v: Hl7Value) => escapeHl7(str(v), d)).join(d.subcomponent) : escapeHl7(str(c as Hl7Value), d);
      } else {
        const subs = comps[ci].split(d.subcomponent);
        while (subs.length < p.subcomponent) subs.push('');
        subs[p.subcomponent - 1] = escapeHl7(str(value as Hl7Value), d);
        comps[ci] = subs.join(d.subcomponent);
      }
      reps[ri] = comps.join(d.component);
      seg.fields[p.field] = reps.join(d.repetition);
    }
    for (let i = 1; i < seg.fields.length; i++) seg.fields[i] ??= '';
    return this;
  }

  /** The message text with CR terminators. */
  toString(): string {
    // Trailing empty fields are dropped: they carry nothing and some
    // receivers' field-count checks dislike them.
    return this.segs
      .map((s) => {
        const fields = s.fields.map((f) => f ?? '');
        let n = fields.length;
        while (n > (s.id === 'MSH' ? 3 : 1) && fields[n - 1] === '') n--;
        if (s.id === 'MSH') return 'MSH' + fields[1] + fields.slice(2, n).join(this.delimiters.field);
        return [s.id, ...fields.slice(1, n)].join(this.delimiters.field);
      })
      .join('\r') + '\r';
  }

  /** Parses the built text; throws `Hl7ParseError` when MSH is incomplete. */
  build(): Hl7Message {
    return parseHl7Message(this.toString());
  }
}
