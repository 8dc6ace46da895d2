import Module from 'node:module';

/**
 * Every record batch kafkajs produces carries a CRC-32C of its body, which kafkajs 2.2.4 computes in
 * JavaScript a byte at a time: 22 µs for a 5 kB batch body, about 29 % of encoding a produce request
 * once the encoder allocates less (`kafkajs-encoder.ts`). `@node-rs/crc32` (napi-rs, prebuilt for each
 * platform, the same CRC-32C) does it in 3 µs.
 *
 * kafkajs binds the function when its record-batch module is first loaded — lazily, at the first produce
 * request — so it is swapped in the module cache before that: `createKafkaClient` calls this first thing.
 * If that module was loaded already (a process that produced before making a client this way), or the
 * native binding cannot load on this platform, the stock function stays and this answers false. Applied to the exact version it was written against.
 */
const CRC_MODULE = 'kafkajs/src/protocol/recordBatch/crc32C/index.js';

let native: ((buffer: Buffer) => number) | undefined;

export function useNativeCrc32c(): boolean {
  const version = (require('kafkajs/package.json') as { version: string }).version;
  if (version !== '2.2.4') return false;
  const path = require.resolve(CRC_MODULE);
  const loaded = require.cache[path];
  if (loaded) return native !== undefined && loaded.exports === native;
  let crc32c: (input: Buffer, initialState?: number) => number;
  try {
    ({ crc32c } = require('@node-rs/crc32') as { crc32c(input: Buffer, initialState?: number): number });
  } catch {
    // No prebuilt binary for this platform: the stock JavaScript CRC stays (slower, the same bytes).
    return false;
  }
  // The stock module's contract: the CRC of the whole buffer as an unsigned 32-bit number.
  native = (buffer: Buffer) => crc32c(buffer) >>> 0;
  const replacement = new Module(path);
  replacement.filename = path;
  replacement.loaded = true;
  replacement.exports = native;
  require.cache[path] = replacement;
  return true;
}
