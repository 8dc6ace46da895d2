import type { Hl7Charset } from './hl7-charset.decoder';
import type { Hl7Delimiters } from './hl7-delimiters.model';
import { unescapeHl7 } from './hl7-escape.codec';
import { parseHl7Path, type Hl7Path } from './hl7-path.parser';

/** What every element needs to split and unescape itself. */
export interface Hl7Context {
  readonly delimiters: Hl7Delimiters;
  readonly charset: Hl7Charset;
}

/**
 * The `idx`-th (0-based) piece of `s` split by `sep`, without allocating the
 * whole split array: accessors usually want one piece of a long field.
 */
function pieceAt(s: string, sep: string, idx: number): string | undefined {
  let start = 0;
  for (let i = 0; i < idx; i++) {
    const next = s.indexOf(sep, start);
    if (next < 0) return undefined;
    start = next + 1;
  }
  const end = s.indexOf(sep, start);
  return end < 0 ? s.slice(start) : s.slice(start, end);
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

/**
 * What `.value` of an element gives — its first primitive, unescaped — cut from its text at the first
 * of each lower delimiter, without splitting it into element objects: mappers read `.value` of most
 * components they touch, and building the arrays only to take element 0 was most of their parsing cost.
 * The delimiters are distinct characters, so the first component's first subcomponent is the prefix
 * before the first of each.
 */
function firstPrimitive(raw: string, ctx: Hl7Context, literal: boolean, ...below: string[]): string | undefined {
  if (raw === '') return undefined;
  if (literal) return raw;
  let v = raw;
  for (const sep of below) {
    const end = v.indexOf(sep);
    if (end >= 0) v = v.slice(0, end);
  }
  return v === '' ? undefined : unescapeHl7(v, ctx.delimiters, ctx.charset);
}

/**
 * Common shape of fields, repetitions, components and subcomponents.
 * `raw` is the text exactly as written (escaped); `value` is the first
 * primitive below this element, unescaped (HAPI Terser semantics: `PID-5`
 * reads the family name), or `undefined` when empty. Elements that are not in
 * the message exist as empty elements, so chains never hit `undefined`.
 */
abstract class Hl7Element {
  constructor(
    /** The element's text as written, escape sequences included. */
    readonly raw: string,
    protected readonly ctx: Hl7Context,
    /** MSH-1 / MSH-2 hold delimiters themselves and are never split or unescaped. */
    protected readonly literal: boolean,
  ) {}
  /** True when the element has any content. */
  get present(): boolean {
    return this.raw !== '';
  }
  /** True for the HL7 explicit null `""` ("delete the stored value"). */
  get isNull(): boolean {
    return this.raw === '""';
  }
  /** The first primitive below this element, unescaped; `undefined` when empty. */
  abstract get value(): string | undefined;
}

/** One subcomponent: a primitive value. */
export class Hl7Subcomponent extends Hl7Element {
  get value(): string | undefined {
    return firstPrimitive(this.raw, this.ctx, this.literal);
  }
}

/** One component, split into subcomponents on demand. */
export class Hl7Component extends Hl7Element {
  private subs?: Hl7Subcomponent[];
  /** All subcomponents (at least one). */
  get subcomponents(): readonly Hl7Subcomponent[] {
    if (!this.subs) {
      const parts = this.literal ? [this.raw] : this.raw.split(this.ctx.delimiters.subcomponent);
      const subs: Hl7Subcomponent[] = new Array(parts.length);
      for (let i = 0; i < parts.length; i++) subs[i] = new Hl7Subcomponent(parts[i], this.ctx, this.literal);
      this.subs = subs;
    }
    return this.subs;
  }
  /** Subcomponent `k` (1-based); an empty one when absent. */
  subcomponent(k: number): Hl7Subcomponent {
    return this.subcomponents[k - 1] ?? new Hl7Subcomponent('', this.ctx, false);
  }
  get value(): string | undefined {
    return firstPrimitive(this.raw, this.ctx, this.literal, this.ctx.delimiters.subcomponent);
  }
}

/** One repetition of a field, split into components on demand. */
export class Hl7Repetition extends Hl7Element {
  private comps?: Hl7Component[];
  /** All components (at least one). */
  get components(): readonly Hl7Component[] {
    if (!this.comps) {
      const parts = this.literal ? [this.raw] : this.raw.split(this.ctx.delimiters.component);
      const comps: Hl7Component[] = new Array(parts.length);
      for (let i = 0; i < parts.length; i++) comps[i] = new Hl7Component(parts[i], this.ctx, this.literal);
      this.comps = comps;
    }
    return this.comps;
  }
  /** Component `j` (1-based); an empty one when absent. */
  component(j: number): Hl7Component {
    return this.components[j - 1] ?? new Hl7Component('', this.ctx, false);
  }
  get value(): string | undefined {
    return firstPrimitive(this.raw, this.ctx, this.literal, this.ctx.delimiters.component, this.ctx.delimiters.subcomponent);
  }
}

/** One field, split into repetitions on demand. */
export class Hl7Field extends Hl7Element {
  private reps?: Hl7Repetition[];
  /** All repetitions; empty for an empty field. */
  get repetitions(): readonly Hl7Repetition[] {
    if (!this.reps) {
      if (this.raw === '') this.reps = [];
      else {
        const parts = this.literal ? [this.raw] : this.raw.split(this.ctx.delimiters.repetition);
        const reps: Hl7Repetition[] = new Array(parts.length);
        for (let i = 0; i < parts.length; i++) reps[i] = new Hl7Repetition(parts[i], this.ctx, this.literal);
        this.reps = reps;
      }
    }
    return this.reps;
  }
  /** Repetition `i` (1-based); an empty one when absent. */
  repetition(i: number): Hl7Repetition {
    return this.repetitions[i - 1] ?? new Hl7Repetition('', this.ctx, false);
  }
  /** Shortcut for `repetition(1).component(j)`. */
  component(j: number): Hl7Component {
    return this.repetition(1).component(j);
  }
  get value(): string | undefined {
    const d = this.ctx.delimiters;
    return firstPrimitive(this.raw, this.ctx, this.literal, d.repetition, d.component, d.subcomponent);
  }
}

/** One segment. Fields are split on first access (lazy parsing is why reading MSH and PID of a long ORU is cheap). */
export class Hl7Segment {
  private parts?: string[];
  private fieldCache?: Array<Hl7Field | undefined>;
  constructor(
    /** Segment id, e.g. `PID`, `ZPI`. */
    readonly id: string,
    /** The segment text as written, without terminator. */
    readonly raw: string,
    readonly ctx: Hl7Context,
    /** 0-based position in the message. */
    readonly index: number,
    /** 1-based occurrence among segments with the same id (the ERL "sequence"). */
    readonly occurrence: number,
  ) {}

  private split(): string[] {
    return (this.parts ??= this.raw.split(this.ctx.delimiters.field));
  }

  /**
   * Number of the last field present. For MSH the numbering quirk applies:
   * MSH-1 is the field separator itself and MSH-2 the encoding characters.
   */
  get fieldCount(): number {
    const n = this.split().length;
    return this.id === 'MSH' ? n : n - 1;
  }

  /** Raw (escaped) text of field `n`, or `undefined` when the segment is shorter. */
  fieldRaw(n: number): string | undefined {
    if (this.id === 'MSH') {
      if (n === 1) return this.ctx.delimiters.field;
      return n >= 2 ? this.split()[n - 1] : undefined;
    }
    return n >= 1 ? this.split()[n] : undefined;
  }

  /** Field `n` (1-based); an empty field when absent. */
  field(n: number): Hl7Field {
    const cache = (this.fieldCache ??= []);
    let f = cache[n];
    if (!f) {
      const literal = this.id === 'MSH' && (n === 1 || n === 2);
      f = new Hl7Field(this.fieldRaw(n) ?? '', this.ctx, literal);
      cache[n] = f;
    }
    return f;
  }

  /** Fields 1..fieldCount. */
  fields(): Hl7Field[] {
    const count = this.fieldCount;
    const out: Hl7Field[] = new Array(count);
    for (let n = 1; n <= count; n++) out[n - 1] = this.field(n);
    return out;
  }

  /**
   * Unescaped value at field/repetition/component/subcomponent (1-based,
   * defaulting to 1), `undefined` when empty. Reads only the pieces it needs.
   */
  value(field: number, repetition = 1, component = 1, subcomponent = 1): string | undefined {
    const raw = this.fieldRaw(field);
    if (raw === undefined || raw === '') return undefined;
    if (this.id === 'MSH' && (field === 1 || field === 2)) return repetition === 1 && component === 1 && subcomponent === 1 ? raw : undefined;
    const d = this.ctx.delimiters;
    let v = pieceAt(raw, d.repetition, repetition - 1);
    if (v !== undefined) v = pieceAt(v, d.component, component - 1);
    if (v !== undefined) v = pieceAt(v, d.subcomponent, subcomponent - 1);
    v = nonEmpty(v);
    return v === undefined ? undefined : unescapeHl7(v, d, this.ctx.charset);
  }

  /** Segment text as written. */
  toString(): string {
    return this.raw;
  }
}

/** MSH fields most consumers need, unescaped (first component where composite). */
export interface Hl7Header {
  readonly fieldSeparator: string;
  readonly encodingCharacters: string;
  /** MSH-3.1 */ readonly sendingApplication?: string;
  /** MSH-4.1 */ readonly sendingFacility?: string;
  /** MSH-5.1 */ readonly receivingApplication?: string;
  /** MSH-6.1 */ readonly receivingFacility?: string;
  /** MSH-7.1 as written (read it with `readHl7DateTime`). */ readonly dateTime?: string;
  /** MSH-9.1 */ readonly messageType: string;
  /** MSH-9.2 */ readonly triggerEvent?: string;
  /** MSH-9.3 */ readonly messageStructure?: string;
  /** MSH-10 */ readonly controlId: string;
  /** MSH-11.1 */ readonly processingId?: string;
  /** MSH-12.1 */ readonly version: string;
  /** MSH-15 */ readonly acceptAckType?: string;
  /** MSH-16 */ readonly applicationAckType?: string;
  /** MSH-18, first repetition (the charset of the message text). */ readonly charset?: string;
}

/** Internal construction data; use `parseHl7Message` or `Hl7MessageBuilder`. */
export interface Hl7MessageInit {
  readonly text: string;
  readonly raw?: Buffer;
  readonly ctx: Hl7Context;
  readonly segments: Hl7Segment[];
}

/**
 * A parsed HL7 v2 message: segments → fields → repetitions → components →
 * subcomponents. Immutable; build new messages with `Hl7MessageBuilder`.
 */
export class Hl7Message {
  /** The decoded message text as received (BOM removed, terminators as sent). */
  readonly text: string;
  readonly delimiters: Hl7Delimiters;
  /** Name of the charset the bytes were decoded with (MSH-18 or the default). */
  readonly charset: string;
  private readonly ctx: Hl7Context;
  private readonly all: Hl7Segment[];
  private rawBytes?: Buffer;
  private byId?: Map<string, Hl7Segment[]>;
  private headerCache?: Hl7Header;

  /** @internal */
  constructor(init: Hl7MessageInit) {
    this.text = init.text;
    this.rawBytes = init.raw;
    this.ctx = init.ctx;
    this.delimiters = init.ctx.delimiters;
    this.charset = init.ctx.charset.name;
    this.all = init.segments;
  }

  /**
   * The original bytes exactly as received. For messages parsed from a string
   * (or built), the UTF-8 encoding of the text, computed on first use.
   */
  get raw(): Buffer {
    return (this.rawBytes ??= Buffer.from(this.text, 'utf8'));
  }

  /** All segments in order, or those with the given id. */
  segments(id?: string): Hl7Segment[] {
    if (id === undefined) return this.all.slice();
    return (this.index().get(id) ?? []).slice();
  }

  /** The `occurrence`-th (1-based) segment with this id. */
  segment(id: string, occurrence = 1): Hl7Segment | undefined {
    if (occurrence === 1) {
      // Most reads are of the first MSH/PID; avoid building the index for them.
      for (const s of this.all) if (s.id === id) return s;
      return undefined;
    }
    return this.index().get(id)?.[occurrence - 1];
  }

  private index(): Map<string, Hl7Segment[]> {
    if (!this.byId) {
      this.byId = new Map();
      for (const s of this.all) {
        const list = this.byId.get(s.id);
        if (list) list.push(s);
        else this.byId.set(s.id, [s]);
      }
    }
    return this.byId;
  }

  /**
   * Unescaped value at a path such as `PID-3[2].1`, `PID-5.1.1` or `OBX(2)-5`.
   * Omitted occurrence/repetition/component/subcomponent mean the first one,
   * so `get('PID-5')` is the family name. `undefined` when absent or empty.
   * The HL7 explicit null `""` is returned as the two-character string.
   */
  get(path: string | Hl7Path): string | undefined {
    const p = typeof path === 'string' ? parseHl7Path(path) : path;
    return this.segment(p.segment, p.occurrence ?? 1)?.value(p.field, p.repetition ?? 1, p.component ?? 1, p.subcomponent ?? 1);
  }

  /**
   * Every value a path addresses: an omitted segment occurrence means every
   * segment with that id, an omitted repetition every repetition
   * (`getAll('PID-3')` → first component of each identifier,
   * `getAll('OBX-3.1')` → the code of every OBX). Empty repetitions are `''`.
   */
  getAll(path: string | Hl7Path): string[] {
    const p = typeof path === 'string' ? parseHl7Path(path) : path;
    const segs = p.occurrence === undefined ? this.index().get(p.segment) ?? [] : [this.segment(p.segment, p.occurrence)].filter((s): s is Hl7Segment => !!s);
    const out: string[] = [];
    for (const s of segs) {
      const field = s.field(p.field);
      const reps = p.repetition === undefined ? field.repetitions : field.repetitions.slice(p.repetition - 1, p.repetition);
      for (const r of reps) out.push(r.component(p.component ?? 1).subcomponent(p.subcomponent ?? 1).value ?? '');
    }
    return out;
  }

  /** The field at `SEG[(n)]-f` as an element (empty when absent). */
  field(path: string | Hl7Path): Hl7Field {
    const p = typeof path === 'string' ? parseHl7Path(path) : path;
    const s = this.segment(p.segment, p.occurrence ?? 1);
    return s ? s.field(p.field) : new Hl7Field('', this.ctx, false);
  }

  /** MSH fields most consumers need (see {@link Hl7Header}). */
  get header(): Hl7Header {
    if (!this.headerCache) {
      const msh = this.all[0];
      const v = (f: number, c = 1): string | undefined => msh.value(f, 1, c);
      this.headerCache = Object.freeze({
        fieldSeparator: this.delimiters.field,
        encodingCharacters: msh.fieldRaw(2) ?? '',
        sendingApplication: v(3),
        sendingFacility: v(4),
        receivingApplication: v(5),
        receivingFacility: v(6),
        dateTime: v(7),
        messageType: v(9) ?? '',
        triggerEvent: v(9, 2),
        messageStructure: v(9, 3),
        controlId: v(10) ?? '',
        processingId: v(11),
        version: v(12) ?? '',
        acceptAckType: v(15),
        applicationAckType: v(16),
        charset: v(18),
      });
    }
    return this.headerCache;
  }

  /** The message with CR segment terminators (the HL7 standard form). */
  toString(): string {
    return this.all.map((s) => s.raw).join('\r') + '\r';
  }

  /** @internal context shared by all elements (used by the serializer). */
  get context(): Hl7Context {
    return this.ctx;
  }
}
