import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { useNativeCrc32c } from './kafkajs-crc32c';

/** A produce request with fixed content, encoded by kafkajs' own request encoder; its bytes as hex. */
const PRODUCE = `
  const Request = require('kafkajs/src/protocol/requests/produce/v3/request');
  const value = (n, seed) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) % 251));
  const messages = [0, 1, 100, 5000, 70000].map((n, i) => ({ key: i ? 'k' + i : null, value: value(n, i), headers: { h: 'v' + i }, timestamp: 1764000000000 + i }));
  Request({ acks: -1, timeout: 30000, topicData: [{ topic: 't', partitions: [{ partition: 1, firstSequence: 0, messages }] }] }).encode().then((e) => process.stdout.write(e.buffer.toString('hex')));
`;
const encodeIn = (setup: string) => execFileSync(process.execPath, ['-e', setup + PRODUCE], { cwd: process.cwd(), encoding: 'utf8', maxBuffer: 64 << 20 });

describe('native CRC-32C for kafkajs record batches', () => {
  it('computes what the stock JavaScript CRC-32C computes, over every size', () => {
    assert.equal(useNativeCrc32c(), true);
    assert.equal(useNativeCrc32c(), true, 'idempotent');
    const swapped = require('kafkajs/src/protocol/recordBatch/crc32C') as (b: Buffer) => number;
    const stock = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C') as (b: Buffer) => number;
    assert.notEqual(swapped, stock);
    for (const n of [0, 1, 3, 8, 15, 16, 17, 63, 64, 65, 1000, 4096, 5000, 70_001]) {
      const b = randomBytes(n);
      assert.equal(swapped(b), stock(b) >>> 0, `${n} bytes`);
    }
    // Known answer (RFC 3720 B.4): 32 bytes of zeros.
    assert.equal(swapped(Buffer.alloc(32)), 0x8a9136aa);
  });

  it('makes produce requests byte for byte as the stock CRC does (two fresh processes)', () => {
    const stockHex = encodeIn('');
    const nativeHex = encodeIn(`require(${JSON.stringify(require.resolve('./kafkajs-crc32c'))}).useNativeCrc32c() || process.exit(3);`);
    assert.ok(stockHex.length > 150_000);
    assert.equal(nativeHex, stockHex);
  });

  it('leaves the stock function in place when the native binding cannot load', () => {
    const out = execFileSync(process.execPath, ['-e', `
      const Module = require('node:module');
      const load = Module._load;
      Module._load = function (request, ...rest) { if (request === '@node-rs/crc32') throw new Error('no prebuilt binary'); return load.call(this, request, ...rest); };
      const used = require(${JSON.stringify(require.resolve('./kafkajs-crc32c'))}).useNativeCrc32c();
      const crc = require('kafkajs/src/protocol/recordBatch/crc32C');
      process.stdout.write(used + ' ' + crc(Buffer.alloc(32)).toString(16));
    `], { encoding: 'utf8' });
    assert.equal(out, 'false 8a9136aa');
  });

  it('leaves the stock function in place when kafkajs already loaded it', () => {
    const out = execFileSync(process.execPath, ['-e', `
      require('kafkajs/src/protocol/recordBatch/crc32C');
      process.stdout.write(String(require(${JSON.stringify(require.resolve('./kafkajs-crc32c'))}).useNativeCrc32c()));
    `], { encoding: 'utf8' });
    assert.equal(out, 'false');
  });
});
