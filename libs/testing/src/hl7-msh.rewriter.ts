/**
 * Rewrites one MSH field of a real message at the byte level (everything
 * else, BOM and terminators included, stays as it was), e.g. to give each
 * copy of a fixture its own control id (MSH-10) when the same fixture is sent
 * over two channels, or when fixtures from one sender reuse control ids.
 * `field` uses HL7 numbering (MSH-1 is the field separator); 3 ≤ field.
 */
export function withMshField(message: Buffer | string, field: number, value: string): Buffer {
  if (field < 3) throw new Error('MSH-1 and MSH-2 are the delimiters; rewrite fields 3 and up');
  const text = Buffer.isBuffer(message) ? message.toString('latin1') : Buffer.from(message, 'utf8').toString('latin1');
  const at = text.indexOf('MSH');
  if (at < 0) throw new Error('no MSH segment');
  const sep = text[at + 3];
  let end = text.slice(at).search(/[\r\n]/);
  end = end < 0 ? text.length : at + end;
  const parts = text.slice(at, end).split(sep);
  while (parts.length < field) parts.push('');
  parts[field - 1] = Buffer.from(value, 'utf8').toString('latin1');
  return Buffer.from(text.slice(0, at) + parts.join(sep) + text.slice(end), 'latin1');
}

/** MSH-10 (message control id) of `message`, read without a parser. */
export function mshField(message: Buffer | string, field: number): string {
  const text = Buffer.isBuffer(message) ? message.toString('latin1') : message;
  const at = text.indexOf('MSH');
  const sep = text[at + 3];
  let end = text.slice(at).search(/[\r\n]/);
  end = end < 0 ? text.length : at + end;
  return text.slice(at, end).split(sep)[field - 1] ?? '';
}
