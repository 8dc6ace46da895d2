import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Hl7ParseError, readHl7Date, readHl7DateTime, formatHl7DateTime } from './index';

describe('readHl7DateTime', () => {
  test('every precision, with and without offset', () => {
    const cases: Array<[string, string, string, string | null, string]> = [
      ['2024', 'year', '2024', null, '2024'],
      ['202402', 'month', '2024-02', null, '2024-02'],
      ['20240229', 'day', '2024-02-29', null, '2024-02-29'],
      ['2024022913', 'hour', '2024-02-29T13', null, '2024-02-29T13'],
      ['202402291305', 'minute', '2024-02-29T13:05', null, '2024-02-29T13:05'],
      ['20240229130507', 'second', '2024-02-29T13:05:07', null, '2024-02-29T13:05:07'],
      ['20240229130507.1', 'millisecond', '2024-02-29T13:05:07.1', null, '2024-02-29T13:05:07.1'],
      ['20150624084727.655-0500', 'millisecond', '2015-06-24T13:47:27.655Z', '-0500', '2015-06-24T08:47:27.655-05:00'],
      ['198908181126+0215', 'minute', '1989-08-18T09:11:00Z', '+0215', '1989-08-18T11:26+02:15'],
      ['20231231233000.1234+0000', 'millisecond', '2023-12-31T23:30:00.1234Z', '+0000', '2023-12-31T23:30:00.1234+00:00'],
      ['20240101003000-0100', 'second', '2024-01-01T01:30:00Z', '-0100', '2024-01-01T00:30:00-01:00'],
      ['20240101+0200', 'day', '2024-01-01', '+0200', '2024-01-01'],
    ];
    for (const [input, precision, iso, offset, local] of cases) {
      const r = readHl7DateTime(input);
      assert.equal(r.precision, precision, input);
      assert.equal(r.iso, iso, input);
      assert.equal(r.offset, offset, input);
      assert.equal(r.local, local, input);
    }
  });
  test('crossing midnight / year with the offset; Date when instant known', () => {
    const r = readHl7DateTime('20240101003000+0100');
    assert.equal(r.iso, '2023-12-31T23:30:00Z');
    assert.equal(r.date?.toISOString(), '2023-12-31T23:30:00.000Z');
    assert.equal(readHl7DateTime('20240101003000').date, undefined);
    assert.equal(readHl7DateTime('20240101003000', { assumeOffset: '-0500' }).iso, '2024-01-01T05:30:00Z');
    assert.equal(readHl7DateTime('20240101003000', { assumeOffset: '-0500' }).offset, null, 'assumed offset is not reported as the source offset');
    assert.equal(readHl7DateTime('20240101003000.5678+0000').fractionDigits, 4);
  });
  test('invalid values are typed errors (0357 code 102)', () => {
    for (const bad of ['', '20', '2024-01-01', '20241301', '20240230', '20230229', '2024010124', '202401012360', '20240101235960', '20240101120000.12345', '20240101+2500', '20240101+01', 'abcd', '20240101 1200', '20240101120000,5']) {
      assert.throws(() => readHl7DateTime(bad), (e: unknown) => e instanceof Hl7ParseError && e.code === 'HL7.DATETIME.INVALID' && e.hl7ErrorCode === 102, bad);
    }
  });
});

describe('readHl7Date / formatHl7DateTime', () => {
  test('DT', () => {
    assert.deepEqual(readHl7Date('19800101'), { iso: '1980-01-01', precision: 'day' });
    assert.deepEqual(readHl7Date('198001'), { iso: '1980-01', precision: 'month' });
    assert.deepEqual(readHl7Date('1980'), { iso: '1980', precision: 'year' });
    assert.throws(() => readHl7Date('19800132'), { code: 'HL7.DATETIME.INVALID' });
    assert.throws(() => readHl7Date('198001011200'), { code: 'HL7.DATETIME.INVALID' });
  });
  test('format then read gives the same instant', () => {
    const d = new Date('2024-05-06T07:08:09.123Z');
    assert.equal(formatHl7DateTime(d), '20240506070809+0000');
    assert.equal(readHl7DateTime(formatHl7DateTime(d, { milliseconds: true })).date?.getTime(), d.getTime());
  });
});
