import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hl7ParseError, parseHl7Message, serializeHl7Message, splitHl7Batch, peekHl7Header, Hl7MessageBuilder, type Hl7Message } from './index';

const FIXTURES = '/work/shared/fixtures/hl7v2';
const fixtureFiles = readdirSync(FIXTURES).filter((f) => f.endsWith('.hl7')).sort();
const fixture = (name: string): Buffer => readFileSync(join(FIXTURES, name));

/** Structure of a message as plain data, for round-trip comparisons. */
function shape(m: Hl7Message): unknown {
  return m.segments().map((s) => [s.id, s.fields().map((f) => f.repetitions.map((r) => r.components.map((c) => c.subcomponents.map((x) => x.value ?? ''))))]);
}

function expectError(fn: () => unknown, code: string, hl7ErrorCode: number, location?: Record<string, unknown>): Hl7ParseError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof Hl7ParseError, `expected Hl7ParseError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.hl7ErrorCode, hl7ErrorCode);
    if (location) for (const [k, v] of Object.entries(location)) assert.equal((e.location as unknown as Record<string, unknown>)?.[k], v, `location.${k}`);
    return e;
  }
  assert.fail(`expected ${code}`);
}

const MINI = 'MSH|^~\\&|SND|SFAC|RCV|RFAC|20240102030405+0100||ADT^A01^ADT_A01|CTRL1|P|2.5.1\rPID|1||123^^^HOSP^MR~456^^^OTHER^PI||Doe^John^Q||19800101|M\r';

describe('fixtures', () => {
  test(`all ${fixtureFiles.length} fixture files parse, and serialize→parse round-trips`, () => {
    assert.ok(fixtureFiles.length >= 50);
    for (const f of fixtureFiles) {
      const bytes = fixture(f);
      const m = parseHl7Message(bytes);
      assert.ok(m.raw.equals(bytes), `${f}: raw bytes kept exactly`);
      assert.equal(m.segments()[0].id, 'MSH', f);
      assert.ok(m.header.messageType && m.header.controlId && m.header.version, f);
      const again = parseHl7Message(serializeHl7Message(m));
      assert.deepEqual(shape(again), shape(m), `${f}: round trip`);
      assert.deepEqual(shape(parseHl7Message(serializeHl7Message(m, { segmentTerminator: '\r\n' }))), shape(m));
      // The first line of the file, field by field, is what the header says.
      const first = bytes.toString('utf8').replace(/^\uFEFF/, '').split(/\r\n|\r|\n/)[0].split('|');
      assert.equal(m.header.controlId, first[9].split('^')[0], `${f}: MSH-10`);
      assert.equal(m.header.messageType, first[8].split('^')[0], `${f}: MSH-9.1`);
      assert.equal(m.header.version, first[11].split('^')[0], `${f}: MSH-12`);
    }
  });

  test('spot checks: ADT-A01-01 header and PID', () => {
    const m = parseHl7Message(fixture('ADT-A01-01.hl7'));
    assert.deepEqual(
      { ...m.header },
      {
        fieldSeparator: '|', encodingCharacters: '^~\\&', sendingApplication: 'ADTApp', sendingFacility: 'GHHSFacility', receivingApplication: 'EHRApp', receivingFacility: 'GHHRFacility',
        dateTime: '198908181126+0215', messageType: 'ADT', triggerEvent: 'A01', messageStructure: 'ADT_A01', controlId: 'MSG00001', processingId: 'P', version: '2.8',
        acceptAckType: undefined, applicationAckType: undefined, charset: undefined,
      },
    );
    assert.equal(m.get('MSH-4.2'), '2.16.840.1.122848.1.30');
    assert.deepEqual(m.getAll('PID-3'), ['PATID1234', '123456789']);
    assert.equal(m.get('PID-5.1'), 'EVERYMAN');
    assert.equal(m.get('EVN-5.9.2'), '1.3.6.1.4.1.44750.1.2.2');
  });

  test('spot checks: VXU (BOM, 2.5.1, enhanced ack), OUL (UTF-8 declared), ORU (OBX)', () => {
    const vxu = parseHl7Message(fixture('VXU.hl7'));
    assert.equal(vxu.header.version, '2.5.1');
    assert.equal(vxu.header.acceptAckType, 'ER');
    assert.equal(vxu.header.applicationAckType, 'AL');
    assert.equal(vxu.header.dateTime, '20150624084727.655-0500');
    assert.equal(vxu.get('PID-5'), 'Wong');
    assert.equal(vxu.get('PID-13[2].4'), 'Elise.Wong@isp.com');
    const oul = parseHl7Message(fixture('OUL-R22-02.hl7'));
    assert.equal(oul.header.charset, 'UNICODE UTF-8');
    assert.equal(oul.charset, 'UNICODE UTF-8');
    const oru = parseHl7Message(fixture('ORU-R01-RMGEAD.hl7'));
    assert.equal(oru.header.controlId, 'CNTRL-3456');
    assert.equal(oru.get('OBX-5.2'), '182');
    assert.equal(oru.get('OBX-3.1'), '1554-5');
  });

  test('escapes in fixtures are decoded (\\T\\ → &)', () => {
    const m = parseHl7Message(fixture('OML-O21-01.hl7'));
    const url = m.getAll('OBX-5.1').find((v) => v.startsWith('http://'));
    assert.equal(url, 'http://172.16.237.4/CaseCenter/index.php?ContainerType=CaseView&ContainerID=0&SlideID=40bcbe96bcbf8cda8b07403263b92cb4');
  });
});

describe('model and accessors', () => {
  const m = parseHl7Message(MINI);
  test('paths', () => {
    assert.equal(m.get('PID-3'), '123');
    assert.equal(m.get('PID-3[2].1'), '456');
    assert.equal(m.get('PID-3[2].5'), 'PI');
    assert.equal(m.get('PID-5.1.1'), 'Doe');
    assert.equal(m.get('PID.5.2'), 'John');
    assert.equal(m.get('PID-3[3]'), undefined);
    assert.equal(m.get('PID-99'), undefined);
    assert.equal(m.get('ZZZ-1'), undefined);
    assert.deepEqual(m.getAll('PID-3'), ['123', '456']);
    assert.deepEqual(m.getAll('PID-3.4'), ['HOSP', 'OTHER']);
  });
  test('segment objects and chains', () => {
    const pid = m.segment('PID')!;
    assert.equal(pid.field(3).repetitions.length, 2);
    assert.equal(pid.field(3).repetition(2).component(4).subcomponent(1).value, 'OTHER');
    assert.equal(pid.field(3).repetition(2).component(4).raw, 'OTHER');
    assert.equal(pid.field(30).repetition(4).component(2).subcomponent(9).value, undefined);
    assert.equal(pid.field(30).present, false);
    assert.equal(pid.fieldCount, 8);
  });
  test('MSH numbering quirk: MSH-1 is the field separator, MSH-2 the encoding characters', () => {
    assert.equal(m.get('MSH-1'), '|');
    assert.equal(m.get('MSH-2'), '^~\\&');
    assert.equal(m.segment('MSH')!.field(2).repetitions.length, 1);
    assert.equal(m.get('MSH-3'), 'SND');
    assert.equal(m.get('MSH-9.2'), 'A01');
  });
  test('OBX(2) addresses the second OBX', () => {
    const oru = parseHl7Message('MSH|^~\\&|A|B|C|D|20240101||ORU^R01|1|P|2.5\rOBX|1|NM|A||1\rOBX|2|NM|B||2\rNTE|1||x\rOBX|3|NM|C||3\r');
    assert.equal(oru.get('OBX(2)-5'), '2');
    assert.equal(oru.get('OBX(3)-3'), 'C');
    assert.deepEqual(oru.getAll('OBX-5'), ['1', '2', '3']);
    assert.equal(oru.segments('OBX').length, 3);
    assert.equal(oru.segments('OBX')[2].occurrence, 3);
    assert.equal(oru.segment('OBX', 4), undefined);
  });
  test('invalid paths throw Hl7PathError', () => {
    assert.throws(() => m.get('pid-3'), { code: 'HL7.PATH.INVALID' });
    assert.throws(() => m.get('PID-0'), { code: 'HL7.PATH.INVALID' });
  });
  test('explicit null "" is visible', () => {
    const n = parseHl7Message('MSH|^~\\&|A|B|C|D|20240101||ADT^A08|1|P|2.5\rPID|1||""\r');
    assert.equal(n.get('PID-3'), '""');
    assert.equal(n.segment('PID')!.field(3).isNull, true);
  });
});

describe('escapes', () => {
  const parse = (value: string, enc = '^~\\&'): string | undefined => parseHl7Message(`MSH|${enc}|A|B|C|D|20240101||ADT^A01|1|P|2.7\rNTE|1||${value}\r`).get('NTE-3');
  test('delimiter escapes', () => {
    assert.equal(parse('a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f'), 'a|b^c&d~e\\f');
  });
  test('hex escapes decode in the message charset', () => {
    assert.equal(parse('\\X41\\\\X0D0A\\'), 'A\r\n');
    assert.equal(parse('caf\\XC3A9\\'), 'café');
    const latin = parseHl7Message(Buffer.concat([Buffer.from('MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5|||||USA|8859/1\rNTE|1||caf\\XE9\\ '), Buffer.from([0xe9]), Buffer.from('\r')]));
    assert.equal(latin.get('NTE-3'), 'café é');
  });
  test('formatting: \\.br\\ → newline, \\.sp\\ → newlines, \\H\\ \\N\\ dropped; \\Zxx\\ \\Cxxxx\\ \\Mxxxxxx\\ and unknown kept verbatim', () => {
    assert.equal(parse('line1\\.br\\line2'), 'line1\nline2');
    assert.equal(parse('a\\.sp2\\b'), 'a\n\nb');
    assert.equal(parse('\\H\\bold\\N\\ \\.in+4\\x'), 'bold x');
    assert.equal(parse('\\Zlocal\\ \\C2842\\ \\M2442\\ \\Q\\'), '\\Zlocal\\ \\C2842\\ \\M2442\\ \\Q\\');
  });
  test('malformed escapes stay literal', () => {
    assert.equal(parse('C:\\temp'), 'C:\\temp');
    assert.equal(parse('\\XZZ\\'), '\\XZZ\\');
    assert.equal(parse('\\XC3\\'), '\\XC3\\'); // half a UTF-8 character
  });
  test('v2.7 truncation character: 5 encoding characters, \\P\\', () => {
    const m = parseHl7Message('MSH|^~\\&#|A|B|C|D|20240101||ADT^A01|1|P|2.7\rNTE|1||50\\P\\ off#\r');
    assert.equal(m.delimiters.truncation, '#');
    assert.equal(m.get('MSH-2'), '^~\\&#');
    assert.equal(m.get('NTE-3'), '50# off#');
  });
  test('custom delimiters', () => {
    const m = parseHl7Message('MSH*:!/$*A*B*C*D*20240101**ADT:A01*1*P*2.5\rPID*1**1:2:3$x!4**Doe:J/E/ne\r');
    assert.equal(m.get('PID-3.3.2'), 'x');
    assert.equal(m.get('PID-3[2]'), '4');
    assert.equal(m.get('PID-5.2'), 'J/ne');
    assert.equal(m.header.triggerEvent, 'A01');
  });
});

describe('terminators, segments, charsets', () => {
  test('CR, LF, CRLF, mixed, blank lines and trailing terminators', () => {
    const base = MINI.split('\r').filter(Boolean);
    const expected = shape(parseHl7Message(MINI));
    for (const text of [base.join('\n'), base.join('\r\n') + '\r\n', base.join('\r\n\r\n') + '\n\n\n', '\r\n' + base.join('\n\r'), base.join('\r') + '\r\r\n  \n']) {
      assert.deepEqual(shape(parseHl7Message(text)), expected);
    }
  });
  test('Z-segments are kept', () => {
    const m = parseHl7Message(MINI + 'ZPI|1|custom^value\rZ01|x\r');
    assert.equal(m.get('ZPI-2.2'), 'value');
    assert.equal(m.segments().map((s) => s.id).join(','), 'MSH,PID,ZPI,Z01');
  });
  test('latin1 bytes with MSH-18 8859/1', () => {
    const bytes = Buffer.concat([Buffer.from('MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5|||||DEU|8859/1\rPID|1||1||M'), Buffer.from([0xfc]), Buffer.from('ller^J'), Buffer.from([0xfc]), Buffer.from('rgen\r')]);
    const m = parseHl7Message(bytes);
    assert.equal(m.get('PID-5'), 'Müller');
    assert.equal(m.get('PID-5.2'), 'Jürgen');
    assert.equal(m.header.charset, '8859/1');
    assert.ok(m.raw.equals(bytes));
  });
  test('UTF-8 declared and assumed; ISO IR aliases and 8859/2', () => {
    const text = 'MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.8|||||JPN|UNICODE UTF-8\rPID|1||1||山田^太郎\r';
    assert.equal(parseHl7Message(Buffer.from(text)).get('PID-5'), '山田');
    assert.equal(parseHl7Message(Buffer.from(text.replace('|UNICODE UTF-8', ''))).get('PID-5.2'), '太郎');
    const l2 = Buffer.concat([Buffer.from('MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5|||||POL|8859/2\rPID|1||1||'), Buffer.from([0xa3, 0xf3, 0x64, 0xbc]), Buffer.from('\r')]);
    assert.equal(parseHl7Message(l2).get('PID-5'), 'Łódź');
    const ir100 = Buffer.concat([Buffer.from('MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5|||||FRA|ISO IR100\rPID|1||1||'), Buffer.from([0xe9]), Buffer.from('\r')]);
    assert.equal(parseHl7Message(ir100).get('PID-5'), 'é');
  });
});

describe('malformed corpus → typed errors with table 0357 codes', () => {
  const ok = 'MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5\r';
  test('missing MSH', () => {
    expectError(() => parseHl7Message('PID|1||123\r'), 'HL7.PARSE.MISSING_MSH', 100, { segment: 'MSH' });
    expectError(() => parseHl7Message(''), 'HL7.PARSE.MISSING_MSH', 100);
    expectError(() => parseHl7Message('\r\n\r\n'), 'HL7.PARSE.MISSING_MSH', 100);
    const e = expectError(() => parseHl7Message('FHS|^~\\&\rBHS|^~\\&\r' + ok), 'HL7.PARSE.MISSING_MSH', 100);
    assert.match(e.message, /splitHl7Batch/);
  });
  test('bad encoding characters', () => {
    expectError(() => parseHl7Message('MSH|^~|A|B\r'), 'HL7.PARSE.BAD_ENCODING_CHARACTERS', 102, { segment: 'MSH', field: 2 });
    expectError(() => parseHl7Message('MSH|^^\\&|A\r'), 'HL7.PARSE.BAD_ENCODING_CHARACTERS', 102);
    expectError(() => parseHl7Message('MSHA^~\\&A\r'), 'HL7.PARSE.BAD_ENCODING_CHARACTERS', 102);
    expectError(() => parseHl7Message('MSH|^~\\&#$%|A\r'), 'HL7.PARSE.BAD_ENCODING_CHARACTERS', 102);
    expectError(() => parseHl7Message('MSH|^~ &|A\r'), 'HL7.PARSE.BAD_ENCODING_CHARACTERS', 102);
  });
  test('truncated MSH', () => {
    expectError(() => parseHl7Message('MSH'), 'HL7.PARSE.TRUNCATED_MSH', 101);
    expectError(() => parseHl7Message('MSH\r'), 'HL7.PARSE.TRUNCATED_MSH', 101);
    expectError(() => parseHl7Message('MSH|^~\\&'), 'HL7.PARSE.MISSING_MESSAGE_TYPE', 101, { segment: 'MSH', field: 9 });
    expectError(() => parseHl7Message('MSH|^~\\&|A|B|C|D|2024'), 'HL7.PARSE.MISSING_MESSAGE_TYPE', 101);
  });
  test('missing MSH-9 / MSH-10 / MSH-12', () => {
    expectError(() => parseHl7Message('MSH|^~\\&|A|B|C|D|20240101||^A01|1|P|2.5\r'), 'HL7.PARSE.MISSING_MESSAGE_TYPE', 101, { field: 9, component: 1 });
    expectError(() => parseHl7Message('MSH|^~\\&|A|B|C|D|20240101||ADT^A01||P|2.5\r'), 'HL7.PARSE.MISSING_CONTROL_ID', 101, { field: 10 });
    expectError(() => parseHl7Message('MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P\r'), 'HL7.PARSE.MISSING_VERSION', 101, { field: 12 });
  });
  test('wrong / unsupported MSH-12', () => {
    for (const v of ['3.0', '2.9', '2', 'abc', '2.5.1.1', '1.0']) {
      expectError(() => parseHl7Message(`MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|${v}\r`), 'HL7.PARSE.UNSUPPORTED_VERSION', 203, { field: 12 });
    }
    for (const v of ['2.1', '2.2', '2.3', '2.3.1', '2.4', '2.5', '2.5.1', '2.6', '2.7', '2.7.1', '2.8', '2.8.2', '2.5^USA']) {
      assert.ok(parseHl7Message(`MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|${v}\r`));
    }
  });
  test('binary junk', () => {
    expectError(() => parseHl7Message(Buffer.from([0, 1, 2, 0xff, 0xfe, 0x0b, 0x1c])), 'HL7.PARSE.MISSING_MSH', 100);
    expectError(() => parseHl7Message(Buffer.concat([Buffer.from(ok), Buffer.from([0x00, 0x9f, 0x92, 0x96])])), 'HL7.ENCODING.INVALID', 102);
  });
  test('garbage lines and a second MSH are segment sequence errors', () => {
    expectError(() => parseHl7Message(ok + 'this is not a segment\r'), 'HL7.PARSE.BAD_SEGMENT', 100, { sequence: 2 });
    expectError(() => parseHl7Message(ok + 'PIDX|1\r'), 'HL7.PARSE.BAD_SEGMENT', 100);
    expectError(() => parseHl7Message(ok + ok), 'HL7.PARSE.UNEXPECTED_SEGMENT', 100, { segment: 'MSH' });
  });
  test('huge input with maxBytes', () => {
    const huge = ok + 'OBX|1|ED|PDF||' + 'A'.repeat(200_000) + '\r';
    expectError(() => parseHl7Message(huge, { maxBytes: 100_000 }), 'HL7.PARSE.TOO_LARGE', 102);
    expectError(() => parseHl7Message(Buffer.from(huge), { maxBytes: 100_000 }), 'HL7.PARSE.TOO_LARGE', 102);
    assert.ok(parseHl7Message(huge, { maxBytes: 300_000 }));
    // multi-byte text: the limit is in bytes, not characters
    expectError(() => parseHl7Message(ok + 'NTE|1||' + 'é'.repeat(60) + '\r', { maxBytes: 120 }), 'HL7.PARSE.TOO_LARGE', 102);
  });
  test('invalid UTF-8 when declared or assumed; non-ASCII under ASCII; unknown charset', () => {
    const bad = Buffer.concat([Buffer.from('MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5|||||USA|UNICODE UTF-8\rPID|1||1||M'), Buffer.from([0xfc]), Buffer.from('ller\r')]);
    expectError(() => parseHl7Message(bad), 'HL7.ENCODING.INVALID', 102, { field: 18 });
    const assumed = Buffer.concat([Buffer.from('MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5\rPID|1||1||M'), Buffer.from([0xc3, 0x28]), Buffer.from('\r')]);
    expectError(() => parseHl7Message(assumed), 'HL7.ENCODING.INVALID', 102);
    assert.equal(parseHl7Message(assumed, { defaultCharset: '8859/1' }).get('PID-5'), 'MÃ(');
    expectError(() => parseHl7Message(Buffer.from(bad.toString('latin1').replace('UNICODE UTF-8', 'ASCII'), 'latin1')), 'HL7.ENCODING.INVALID', 102);
    expectError(() => parseHl7Message('MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5|||||USA|EBCDIC\r'), 'HL7.ENCODING.UNSUPPORTED', 103);
  });
  test('not a string or Buffer', () => {
    expectError(() => parseHl7Message(42 as unknown as string), 'HL7.PARSE.INVALID_INPUT', 207);
  });
});

describe('builder and serializer', () => {
  test('builder escapes values and builds a parseable message', () => {
    const m = new Hl7MessageBuilder()
      .msh({ sendingApplication: 'APP', sendingFacility: { namespaceId: 'FAC', universalId: '1.2.3', universalIdType: 'ISO' }, messageType: 'ADT', triggerEvent: 'A01', messageStructure: 'ADT_A01', controlId: 'X1', dateTime: '20240101', version: '2.5.1' })
      .segment('PID', ['1', '', { repetitions: [['123', '', '', 'MRN'], ['a|b^c']] }, '', ['O\'Brien & Sons', 'J~K\\L']])
      .set('PID-8', 'F')
      .set('PID-11[2].3', 'Zürich')
      .set('PID-3[2].4.2', 'sub')
      .build();
    assert.equal(m.get('MSH-4.2'), '1.2.3');
    assert.equal(m.get('PID-3[2]'), 'a|b^c');
    assert.equal(m.get('PID-3[2].4.2'), 'sub');
    assert.equal(m.get('PID-5'), "O'Brien & Sons");
    assert.equal(m.get('PID-5.2'), 'J~K\\L');
    assert.equal(m.get('PID-8'), 'F');
    assert.equal(m.get('PID-11[2].3'), 'Zürich');
    assert.equal(m.get('PID-11[1].3'), undefined);
  });
  test('builder refuses an incomplete MSH with a typed error', () => {
    assert.throws(() => new Hl7MessageBuilder().msh({ messageType: 'ADT', controlId: '' }).build(), { code: 'HL7.PARSE.MISSING_CONTROL_ID' });
  });
  test('serializing with other delimiters re-escapes values', () => {
    const m = parseHl7Message('MSH|^~\\&|A|B|C|D|20240101||ADT^A01|1|P|2.5\rNTE|1||a*b\\T\\c\\.br\\d^e&f\\Zx\\\r');
    const out = serializeHl7Message(m, { delimiters: { field: '*', component: '^', repetition: '~', escape: '\\', subcomponent: '&' } });
    assert.match(out, /^MSH\*\^~\\&\*A/);
    const back = parseHl7Message(out);
    assert.equal(back.get('NTE-3'), 'a*b&c\nd');
    assert.equal(back.get('NTE-3.2.2'), 'f\\Zx\\');
    assert.equal(serializeHl7Message(m, { trailingTerminator: false, segmentTerminator: '\n' }).endsWith('\\Zx\\'), true);
  });
});

describe('batches and salvage', () => {
  const msg = (id: string): string => `MSH|^~\\&|A|B|C|D|20240101||ADT^A01|${id}|P|2.5\rPID|1||${id}\r`;
  test('FHS/BHS/BTS/FTS file', () => {
    const file = `FHS|^~\\&|SND|SF|RCV|RF|20240101||file1|comment|F1\rBHS|^~\\&|SND|SF|RCV|RF|20240101||b1||B1\r${msg('1')}${msg('2')}BTS|2\rBHS|^~\\&|SND\r${msg('3')}BTS|1\rFTS|2\r`;
    const r = splitHl7Batch(file);
    assert.equal(r.fileHeader?.sendingApplication, 'SND');
    assert.equal(r.fileHeader?.name, 'file1');
    assert.equal(r.fileHeader?.controlId, 'F1');
    assert.equal(r.batches.length, 2);
    assert.equal(r.batches[0].header?.controlId, 'B1');
    assert.equal(r.batches[0].trailerMessageCount, 2);
    assert.deepEqual(r.messages.map((m) => m.header.controlId), ['1', '2', '3']);
    assert.deepEqual(r.warnings, []);
    assert.equal(r.fileTrailerBatchCount, 2);
  });
  test('tolerates missing FHS/FTS/BHS, LF terminators, bad messages and count mismatches', () => {
    const r = splitHl7Batch(Buffer.from(`${msg('1')}MSH|^~\\&|A|B|C|D|20240101||ADT^A01|2|P|9.9\r${msg('3')}BTS|5\r`.replace(/\r/g, '\n')));
    assert.deepEqual(r.messages.map((m) => m.header.controlId), ['1', '3']);
    assert.equal(r.failures.length, 1);
    assert.equal(r.failures[0].index, 1);
    assert.equal(r.failures[0].error.hl7ErrorCode, 203);
    assert.equal(r.warnings.length, 1);
    assert.ok(r.messages[0].raw.equals(Buffer.from(msg('1').replace(/\r/g, '\n'))), 'each message keeps its bytes, terminators included');
  });
  test('peekHl7Header salvages broken input and never throws', () => {
    const h = peekHl7Header('junk\x0bMSH|^~\\&|SND^1.2^ISO|SF|RCV|RF|2024||ORU^R01|C9|P|2.3');
    assert.equal(h?.controlId, 'C9');
    assert.deepEqual(h?.sendingApplication, { namespaceId: 'SND', universalId: '1.2', universalIdType: 'ISO' });
    assert.equal(h?.version, '2.3');
    assert.equal(peekHl7Header('nothing here'), undefined);
    assert.equal(peekHl7Header('MSH'), undefined);
  });
});
