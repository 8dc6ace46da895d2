import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { escapeHl7, unescapeHl7, Hl7MessageBuilder, Hl7ParseError, parseHl7Message, serializeHl7Message, splitHl7Batch, peekHl7Header, readHl7DateTime, type Hl7Delimiters } from './index';

const RUNS = Number(process.env.HL7V2_FC_RUNS ?? 300);

/** Values that stress the codec: delimiters, escape look-alikes, CR/LF, unicode. */
const tricky = fc.constantFrom('|', '^', '~', '\\', '&', '#', '*', '\r', '\n', '\r\n', '\\F\\', '\\X41\\', '\\.br\\', '""', ' ', 'é', '山', '😀', 'MSH|');
const value = (unit: 'grapheme' | 'binary'): fc.Arbitrary<string> =>
  fc.oneof({ weight: 1, arbitrary: fc.constant('') }, { weight: 3, arbitrary: fc.string({ unit, maxLength: 12 }) }, { weight: 3, arbitrary: fc.array(fc.oneof(tricky, fc.string({ unit, maxLength: 4 })), { maxLength: 6 }).map((a) => a.join('')) });

type Field = string[][][]; // repetitions → components → subcomponents
const field = (unit: 'grapheme' | 'binary'): fc.Arbitrary<Field> => fc.array(fc.array(fc.array(value(unit), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 4 }), { minLength: 0, maxLength: 3 });
const segmentId = fc.constantFrom('PID', 'PV1', 'OBX', 'NTE', 'ZPI', 'Z01', 'NK1');
const segments = (unit: 'grapheme' | 'binary'): fc.Arbitrary<Array<{ id: string; fields: Field[] }>> => fc.array(fc.record({ id: segmentId, fields: fc.array(field(unit), { maxLength: 8 }) }), { maxLength: 6 });

const DELIMITER_CHARS = ['|', '^', '~', '\\', '&', '#', '*', '!', '$', '%', '@', ':', '/', '{', '}', '?'];
const delimiters: fc.Arbitrary<Hl7Delimiters> = fc.tuple(fc.shuffledSubarray(DELIMITER_CHARS, { minLength: 6, maxLength: 6 }), fc.boolean()).map(([c, trunc]) => ({
  field: c[0], component: c[1], repetition: c[2], escape: c[3], subcomponent: c[4], ...(trunc ? { truncation: c[5] } : {}),
}));

function build(d: Hl7Delimiters, segs: Array<{ id: string; fields: Field[] }>, version = '2.7'): string {
  const b = new Hl7MessageBuilder({ delimiters: d }).msh({ sendingApplication: 'A', messageType: 'ADT', triggerEvent: 'A01', controlId: 'C1', dateTime: '20240101', version });
  for (const s of segs) b.segment(s.id, s.fields.map((f) => ({ repetitions: f })));
  return b.toString();
}

function assertValues(text: string | Buffer, segs: Array<{ id: string; fields: Field[] }>): void {
  const m = parseHl7Message(text);
  const body = m.segments().slice(1);
  assert.equal(body.length, segs.length);
  segs.forEach((s, i) => {
    assert.equal(body[i].id, s.id);
    s.fields.forEach((f, fi) => {
      const parsed = body[i].field(fi + 1);
      // Repetitions that are entirely empty collapse to an empty field.
      f.forEach((rep, ri) => rep.forEach((comp, ci) => comp.forEach((sub, si) => {
        assert.equal(parsed.repetition(ri + 1).component(ci + 1).subcomponent(si + 1).value ?? '', sub, `${s.id}-${fi + 1}[${ri + 1}].${ci + 1}.${si + 1}`);
      })));
    });
  });
  // And once more through the serializer.
  const again = parseHl7Message(serializeHl7Message(m, { segmentTerminator: '\n' }));
  assert.deepEqual(again.segments().map((s) => s.raw), m.segments().map((s) => s.raw));
}

describe('property: round trips', () => {
  test('escape/unescape is the identity for any string and any delimiters', () => {
    fc.assert(fc.property(delimiters, value('binary'), (d, v) => unescapeHl7(escapeHl7(v, d), d) === v), { numRuns: RUNS * 3 });
  });

  test('parse(build(x)) returns every value of x (default delimiters, any code points)', () => {
    fc.assert(fc.property(segments('binary'), (segs) => assertValues(build({ field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&' }, segs), segs)), { numRuns: RUNS });
  });

  test('parse(build(x)) with random delimiters (incl. v2.7 truncation character)', () => {
    fc.assert(fc.property(delimiters, segments('grapheme'), (d, segs) => assertValues(build(d, segs), segs)), { numRuns: RUNS });
  });

  test('as UTF-8 bytes, and re-serialized with other delimiters', () => {
    fc.assert(
      fc.property(delimiters, delimiters, segments('grapheme'), (d1, d2, segs) => {
        const text = build(d1, segs);
        assertValues(Buffer.from(text, 'utf8'), segs);
        assertValues(serializeHl7Message(parseHl7Message(text), { delimiters: d2 }), segs);
      }),
      { numRuns: RUNS },
    );
  });

  test('.value of a field, repetition or component is its first subcomponent\'s value, read without splitting (MSH-1/2 literal)', () => {
    fc.assert(
      fc.property(delimiters, segments('grapheme'), (d, segs) => {
        const m = parseHl7Message(build(d, segs));
        for (const s of m.segments()) {
          for (let n = 1; n <= s.fieldCount; n++) {
            const f = s.field(n);
            const where = `${s.id}-${n}`;
            // The split path, element by element: what `.value` was before it cut the text.
            const first = (r: { components: readonly { subcomponents: readonly { value: string | undefined }[] }[] }) => r.components[0].subcomponents[0].value;
            assert.equal(f.value, f.repetitions.length ? first(f.repetitions[0]) : undefined, where);
            for (const r of f.repetitions) {
              assert.equal(r.value, first(r), where);
              for (const c of r.components) assert.equal(c.value, c.subcomponents[0].value, where);
            }
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
});

function onlyParseErrors(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof Hl7ParseError)) throw e;
  }
}

/** Touches everything a consumer might read, to catch lazy-path crashes. */
function exercise(m: ReturnType<typeof parseHl7Message>): void {
  void m.header;
  for (const s of m.segments()) {
    for (const f of s.fields()) for (const r of f.repetitions) for (const c of r.components) for (const x of c.subcomponents) void x.value;
    if (/^[A-Z][A-Z0-9]{2}$/.test(s.id)) m.getAll(`${s.id}-1`);
  }
  serializeHl7Message(m);
  void m.raw;
}

describe('property: hostile input only ever raises Hl7ParseError', () => {
  test('arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => onlyParseErrors(() => exercise(parseHl7Message(Buffer.from(bytes))))), { numRuns: RUNS * 3 });
  });
  test('arbitrary bytes after a plausible MSH prefix', () => {
    const prefix = fc.constantFrom('MSH|^~\\&|', 'MSH|^~\\&|A|B|C|D|2024||ADT^A01|1|P|2.5\r', 'MSH|^~\\&#|A|B|C|D|2024||ADT^A01|1|P|2.7|||||USA|', '\ufeffMSH|');
    fc.assert(
      fc.property(prefix, fc.uint8Array({ maxLength: 300 }), (p, bytes) => {
        const input = Buffer.concat([Buffer.from(p, 'utf8'), Buffer.from(bytes)]);
        onlyParseErrors(() => exercise(parseHl7Message(input)));
        onlyParseErrors(() => exercise(parseHl7Message(input, { defaultCharset: '8859/1' })));
      }),
      { numRuns: RUNS * 3 },
    );
  });
  test('arbitrary strings (with and without MSH prefix)', () => {
    fc.assert(
      fc.property(fc.constantFrom('', 'MSH|^~\\&|A|B|C|D|2024||ADT^A01|1|P|2.5\r', 'MSH'), fc.string({ unit: 'binary', maxLength: 300 }), (p, s) => {
        onlyParseErrors(() => exercise(parseHl7Message(p + s)));
      }),
      { numRuns: RUNS * 3 },
    );
  });
  test('batch splitter, header peek and date reader never throw anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 40 }), (bytes, s) => {
        splitHl7Batch(Buffer.concat([Buffer.from('FHS|^~\\&\rMSH|^~\\&|'), Buffer.from(bytes)]));
        peekHl7Header(Buffer.from(bytes));
        onlyParseErrors(() => readHl7DateTime(s));
      }),
      { numRuns: RUNS },
    );
  });
});
