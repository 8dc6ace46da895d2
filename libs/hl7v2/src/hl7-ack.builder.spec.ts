import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ackCodeFor, ackErrorFromParseError, ackRequirements, buildAck, isAckWanted, Hl7ParseError, parseHl7Message, peekHl7Header } from './index';

const ADT = parseHl7Message(readFileSync('/work/shared/fixtures/hl7v2/ADT-A01-01.hl7'));
const at = new Date('2024-01-02T03:04:05Z');

describe('buildAck', () => {
  test('AA for a v2.8 message: swapped MSH, ACK^A01^ACK, MSA', () => {
    const ack = buildAck(ADT, { code: 'AA', controlId: 'ACK1', dateTime: at });
    const msh = ack.segment('MSH')!;
    assert.equal(msh.fieldRaw(3), 'EHRApp^1.Edu^ISO', 'receiver becomes sender, HD copied whole');
    assert.equal(msh.fieldRaw(4), 'GHHRFacility^2.16.840.1.1122848.1.32^ISO');
    assert.equal(msh.fieldRaw(5), 'ADTApp');
    assert.equal(msh.fieldRaw(6), 'GHHSFacility^2.16.840.1.122848.1.30^ISO');
    assert.equal(msh.fieldRaw(9), 'ACK^A01^ACK');
    assert.equal(ack.header.controlId, 'ACK1');
    assert.equal(ack.header.version, '2.8');
    assert.equal(ack.header.processingId, 'P');
    assert.equal(ack.header.dateTime, '20240102030405+0000');
    assert.equal(ack.get('MSA-1'), 'AA');
    assert.equal(ack.get('MSA-2'), 'MSG00001');
    assert.equal(ack.segments('ERR').length, 0);
  });

  test('AE with v2.5+ ERR segments (ERL location, CWE code, severity, user message)', () => {
    const ack = buildAck(ADT, {
      code: 'AE',
      controlId: 'ACK2',
      sendingApplication: 'CLINMESH',
      sendingFacility: { namespaceId: 'CM', universalId: '1.2.3', universalIdType: 'ISO' },
      textMessage: 'Rejected: see ERR',
      errors: [
        { code: 101, severity: 'E', location: { segment: 'PID', sequence: 1, field: 3 }, text: 'PID-3 is required' },
        { code: 102, severity: 'W', location: { segment: 'PID', sequence: 1, field: 7, component: 1 }, text: 'Bad date | with ^ delimiters' },
      ],
    });
    assert.equal(ack.get('MSH-3'), 'CLINMESH');
    assert.equal(ack.get('MSH-4.2'), '1.2.3');
    assert.equal(ack.get('MSA-3'), 'Rejected: see ERR');
    const errs = ack.segments('ERR');
    assert.equal(errs.length, 2);
    assert.equal(errs[0].fieldRaw(2), 'PID^1^3');
    assert.equal(errs[0].fieldRaw(3), '101^Required field missing^HL70357');
    assert.equal(errs[0].fieldRaw(4), 'E');
    assert.equal(errs[0].value(8), 'PID-3 is required');
    assert.equal(errs[1].fieldRaw(2), 'PID^1^7^^1');
    assert.equal(errs[1].value(4), 'W');
    assert.equal(errs[1].value(8), 'Bad date | with ^ delimiters');
  });

  test('pre-2.5 versions use ERR-1 (ELD) and MSA-6; 2.3 uses ACK^trigger, 2.1 ACK', () => {
    const v23 = parseHl7Message(readFileSync('/work/shared/fixtures/hl7v2/ADT01-23.hl7'));
    const ack = buildAck(v23, { code: 'AR', controlId: 'N1', errors: [{ code: 203, severity: 'E', location: { segment: 'MSH', sequence: 1, field: 12 } }] });
    assert.equal(ack.segment('MSH')!.fieldRaw(9), 'ACK^A01');
    assert.equal(ack.segment('ERR')!.fieldRaw(1), 'MSH^1^12^203&Unsupported version id&HL70357');
    assert.equal(ack.get('MSA-6'), '203');
    assert.equal(ack.get('MSA-6.2'), 'Unsupported version id');
    const v21 = parseHl7Message('MSH|^~\\&|A|B|C|D|198001010000||ADT|9|P|2.1\r');
    assert.equal(buildAck(v21, { code: 'AA', controlId: 'x' }).segment('MSH')!.fieldRaw(9), 'ACK');
  });

  test('NAK for unparseable input from salvaged header fields and a parse error', () => {
    const bad = 'MSH|^~\\&|LAB^1.2^ISO|F|ING|G|20240101||ORU^R01|C77|P|3.0\rPID|1\r';
    let err: Hl7ParseError | undefined;
    try {
      parseHl7Message(bad);
    } catch (e) {
      err = e as Hl7ParseError;
    }
    assert.ok(err);
    const ack = buildAck(peekHl7Header(bad)!, { code: 'AR', controlId: 'N2', errors: [ackErrorFromParseError(err)] });
    assert.equal(ack.get('MSA-2'), 'C77');
    assert.equal(ack.get('MSH-5'), 'LAB');
    assert.equal(ack.get('MSH-5.2'), '1.2');
    assert.equal(ack.header.version, '2.5.1', 'unsupported version falls back to 2.5.1');
    assert.equal(ack.get('ERR-3'), '203');
    assert.equal(ack.get('ERR-2.3'), '12');
    assert.match(ack.get('ERR-8')!, /Unsupported HL7 version/);
    // Even with nothing salvaged an ACK can be built.
    assert.equal(buildAck({}, { code: 'AR', controlId: 'N3' }).get('MSA-1'), 'AR');
  });

  test('keeps the original charset and delimiters', () => {
    const m = parseHl7Message('MSH*:!/$*A*B*C*D*20240101**ADT:A04*7*T*2.6*****USA*8859/1\r');
    const ack = buildAck(m, { code: 'CA', controlId: 'k' });
    assert.ok(ack.toString().startsWith('MSH*:!/$*C*D*A*B*'));
    assert.equal(ack.header.charset, '8859/1');
    assert.equal(ack.header.processingId, 'T');
  });
});

describe('ack requirements', () => {
  test('original vs enhanced mode', () => {
    assert.deepEqual(ackRequirements({}), { mode: 'original', acceptAck: 'NE', applicationAck: 'AL' });
    assert.deepEqual(ackRequirements({ acceptAckType: 'AL', applicationAckType: 'NE' }), { mode: 'enhanced', acceptAck: 'AL', applicationAck: 'NE' });
    assert.deepEqual(ackRequirements({ acceptAckType: 'ER' }), { mode: 'enhanced', acceptAck: 'ER', applicationAck: 'AL' });
    // Whitespace padding is not a request for enhanced mode (ADT01-23.hl7 ends its MSH with `||| `).
    assert.deepEqual(ackRequirements({ acceptAckType: ' ', applicationAckType: '  ' }), { mode: 'original', acceptAck: 'NE', applicationAck: 'AL' });
    const padded = parseHl7Message(readFileSync('/work/shared/fixtures/hl7v2/ADT01-23.hl7'));
    assert.equal(ackRequirements(padded.header).mode, 'original');
    const vxu = parseHl7Message(readFileSync('/work/shared/fixtures/hl7v2/VXU.hl7'));
    assert.deepEqual(ackRequirements(vxu.header), { mode: 'enhanced', acceptAck: 'ER', applicationAck: 'AL' });
  });
  test('isAckWanted and ackCodeFor', () => {
    assert.equal(isAckWanted('AL', true), true);
    assert.equal(isAckWanted('NE', false), false);
    assert.equal(isAckWanted('ER', true), false);
    assert.equal(isAckWanted('ER', false), true);
    assert.equal(isAckWanted('SU', true), true);
    assert.equal(isAckWanted('SU', false), false);
    assert.equal(ackCodeFor('accept', 'accept', 'enhanced'), 'CA');
    assert.equal(ackCodeFor('accept', 'reject', 'enhanced'), 'CR');
    assert.equal(ackCodeFor('application', 'error', 'enhanced'), 'AE');
    assert.equal(ackCodeFor('accept', 'error', 'original'), 'AE');
  });
});
