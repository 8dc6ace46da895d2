import { isUtf8 } from 'node:buffer';
import { Hl7ErrorCode, Hl7ParseError } from './hl7-parse.error';

/**
 * A character set of HL7 table 0211 (MSH-18) resolved to a decoder.
 * `name` is the normalised table value (e.g. `UNICODE UTF-8`).
 */
export interface Hl7Charset {
  readonly name: string;
  /** Decodes bytes; `strict` rejects invalid sequences with `HL7.ENCODING.INVALID`. */
  decode(bytes: Buffer, strict: boolean): string;
  /** Encodes text for `\Xhh\` escapes and re-encoding; latin1/ASCII map 1:1. */
  encode(text: string): Buffer;
}

const UTF8: Hl7Charset = {
  name: 'UNICODE UTF-8',
  decode(bytes, strict) {
    // TextDecoder({fatal}) would also work, but isUtf8 is a single native pass
    // and lets us name the error precisely.
    if (strict && !isUtf8(bytes)) {
      throw new Hl7ParseError('HL7.ENCODING.INVALID', 'Message is not valid UTF-8 although UTF-8 is declared or assumed', Hl7ErrorCode.DataTypeError, { segment: 'MSH', sequence: 1, field: 18 });
    }
    return bytes.toString('utf8');
  },
  encode: (text) => Buffer.from(text, 'utf8'),
};

const LATIN1: Hl7Charset = {
  name: '8859/1',
  decode: (bytes) => bytes.toString('latin1'),
  encode: (text) => Buffer.from(text, 'latin1'),
};

const ASCII: Hl7Charset = {
  name: 'ASCII',
  decode(bytes, strict) {
    // Node's 'ascii' decoder silently strips the high bit, which would turn
    // mislabelled latin1/UTF-8 into different letters. Refuse instead: the
    // sender must declare the charset it really uses.
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] > 0x7f) {
        if (strict) {
          throw new Hl7ParseError('HL7.ENCODING.INVALID', `Byte 0x${bytes[i].toString(16)} at offset ${i} is not ASCII although MSH-18 declares ASCII`, Hl7ErrorCode.DataTypeError, { segment: 'MSH', sequence: 1, field: 18 });
        }
        return bytes.toString('latin1');
      }
    }
    return bytes.toString('latin1');
  },
  encode: (text) => Buffer.from(text, 'latin1'),
};

function whatwg(name: string, label: string): Hl7Charset {
  return {
    name,
    decode(bytes, strict) {
      try {
        return new TextDecoder(label, { fatal: strict }).decode(bytes);
      } catch (cause) {
        throw new Hl7ParseError('HL7.ENCODING.INVALID', `Message is not valid ${name}`, Hl7ErrorCode.DataTypeError, { segment: 'MSH', sequence: 1, field: 18 }, { cause });
      }
    },
    // Only used for \Xhh\ escapes of characters outside the delimiters; the
    // WHATWG API has no encoders for legacy charsets, so fall back to UTF-8.
    encode: (text) => Buffer.from(text, 'utf8'),
  };
}

const ISO_8859: Record<string, string> = { '2': 'iso-8859-2', '3': 'iso-8859-3', '4': 'iso-8859-4', '5': 'iso-8859-5', '6': 'iso-8859-6', '7': 'iso-8859-7', '8': 'iso-8859-8', '9': 'iso-8859-9', '15': 'iso-8859-15' };
const ISO_IR: Record<string, string> = { '6': 'ASCII', '100': '8859/1', '101': '8859/2', '109': '8859/3', '110': '8859/4', '144': '8859/5', '127': '8859/6', '126': '8859/7', '138': '8859/8', '148': '8859/9', '192': 'UNICODE UTF-8' };
const CJK: Record<string, string> = { 'KS X 1001': 'euc-kr', 'GB 18030-2000': 'gb18030', 'BIG-5': 'big5' };

/**
 * Resolves an MSH-18 value (first repetition, table 0211) to a decoder.
 * Supported: ASCII / ISO IR6, 8859/1–9 and 8859/15 (and their ISO IR aliases),
 * UNICODE UTF-8 (also the common mislabel `UTF-8`), KS X 1001, GB 18030-2000,
 * BIG-5. UTF-16/32 (`UNICODE`, `UNICODE UTF-16/32`) cannot be carried with an
 * ASCII MSH and JIS/CNS need ISO 2022 switching, so they are refused with
 * `HL7.ENCODING.UNSUPPORTED` (table 0357 code 103) rather than misread.
 */
export function resolveHl7Charset(value: string | undefined, defaultCharset = 'UNICODE UTF-8'): Hl7Charset {
  const name = (value ?? '').trim().toUpperCase() || defaultCharset.trim().toUpperCase();
  if (name === 'UNICODE UTF-8' || name === 'UTF-8' || name === 'UTF8') return UTF8;
  if (name === 'ASCII' || name === 'US-ASCII') return ASCII;
  if (name === '8859/1' || name === 'LATIN1' || name === 'ISO-8859-1') return LATIN1;
  const iso = /^8859\/(\d+)$/.exec(name);
  if (iso && ISO_8859[iso[1]]) return whatwg(name, ISO_8859[iso[1]]);
  const ir = /^ISO IR(\d+)$/.exec(name);
  if (ir && ISO_IR[ir[1]]) return resolveHl7Charset(ISO_IR[ir[1]]);
  if (CJK[name]) return whatwg(name, CJK[name]);
  throw new Hl7ParseError('HL7.ENCODING.UNSUPPORTED', `Unsupported character set "${name}" in MSH-18`, Hl7ErrorCode.TableValueNotFound, { segment: 'MSH', sequence: 1, field: 18 });
}

/** Decoder used when a string (already decoded) is parsed: hex escapes as UTF-8. */
export const UTF8_CHARSET: Hl7Charset = UTF8;
