import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { contentHash, normalisedContent } from './message-content';

describe('message content identity (duplicate key)', () => {
  const cr = 'MSH|^~\\&|A|B|C|D|20261121083000||ADT^A01|X1|P|2.5.1\rPID|1||123\r';

  it('is the SHA-256 of the bytes when they use CR only', () => {
    assert.equal(contentHash(Buffer.from(cr)), createHash('sha256').update(cr).digest('hex'));
    const b = Buffer.from(cr);
    assert.equal(normalisedContent(b), b, 'no copy when there is nothing to normalise');
  });

  it('treats CRLF, LF and mixed line endings as CR', () => {
    for (const variant of [cr.replace(/\r/g, '\r\n'), cr.replace(/\r/g, '\n'), 'MSH|^~\\&|A|B|C|D|20261121083000||ADT^A01|X1|P|2.5.1\r\nPID|1||123\n']) {
      assert.equal(contentHash(Buffer.from(variant)), contentHash(Buffer.from(cr)), JSON.stringify(variant));
    }
    assert.equal(normalisedContent(Buffer.from('a\r\n\r\nb\n\nc\r\r')).toString(), 'a\r\rb\r\rc\r\r', 'blank lines stay, each ending counts once');
  });

  it('counts every other byte: MSH-7, trailing content, a changed value', () => {
    const base = contentHash(Buffer.from(cr));
    assert.notEqual(contentHash(Buffer.from(cr.replace('20261121083000', '20261121083001'))), base, 'MSH-7 is content');
    assert.notEqual(contentHash(Buffer.from(cr.replace('123', '124'))), base);
    assert.notEqual(contentHash(Buffer.from(cr + 'NTE|1\r')), base);
    assert.notEqual(contentHash(Buffer.from(cr.slice(0, -1))), base, 'a missing final terminator is different bytes');
  });
});
