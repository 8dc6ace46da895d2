/**
 * kafkajs 2.2.4 (the last release; unmaintained) encodes every request through `Encoder`, which spends
 * most of its time allocating: each `new Encoder()` — one per record, one per record *header*, one per
 * topic and partition — zero-fills a 512-byte buffer (`Buffer.alloc`), growing doubles into another
 * zero-filled buffer and copies, and every varint becomes an array and then a `Buffer.from` before it is
 * copied in. A record with our dozen headers and a 5 kB value made ~15 zero-filled buffers. In the
 * policy service's profile under the mixed feed these allocations were the largest kafkajs cost.
 *
 * The patch keeps every byte the same (a unit test compares whole produce requests against the stock
 * encoder) and changes only how the buffer is kept:
 * - an encoder starts with no buffer and takes one on its first write (`Encoder.nextPowerOfTwo`, which
 *   the constructor alone still calls, answers 0 — `Buffer.alloc(0)` allocates nothing);
 * - growth takes an uninitialised buffer (`Buffer.allocUnsafe`: small ones come from Node's shared pool)
 *   at least twice the size: only the bytes below `offset` are ever read (`buffer` slices there, and
 *   no other kafkajs module touches `buf`), and every one of them is written before `offset` passes it;
 * - varints are written in place.
 * Applied once, to the exact version it was written against (like `kafkajs-idle-loop.ts`).
 */
const PATCHED = Symbol.for('clinmesh.kafkajs.encoderPatch');

interface EncoderLike {
  buf: Buffer;
  offset: number;
  ensureAvailable(length: number): void;
}

interface EncoderClass {
  prototype: EncoderLike & { writeUVarInt(value: number): EncoderLike };
  nextPowerOfTwo(value: number): number;
  [PATCHED]?: true;
}

const SMALLEST = 64;

export function patchKafkajsEncoder(): boolean {
  const version = (require('kafkajs/package.json') as { version: string }).version;
  if (version !== '2.2.4') return false;
  const Encoder = require('kafkajs/src/protocol/encoder') as EncoderClass;
  if (Encoder[PATCHED]) return true;
  const proto = Encoder.prototype;
  if (typeof Encoder.nextPowerOfTwo !== 'function' || typeof proto.ensureAvailable !== 'function' || typeof proto.writeUVarInt !== 'function') return false;

  proto.ensureAvailable = function ensureAvailable(this: EncoderLike, length: number): void {
    const needed = this.offset + length;
    if (needed <= this.buf.length) return;
    let size = Math.max(SMALLEST, this.buf.length * 2);
    while (size < needed) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buf.copy(grown, 0, 0, this.offset);
    this.buf = grown;
  };
  // The stock loop over an unsigned 32-bit value, seven bits a byte, written in place.
  proto.writeUVarInt = function writeUVarInt(this: EncoderLike, value: number): EncoderLike {
    this.ensureAvailable(5);
    while ((value & 0xffffff80) !== 0) {
      this.buf[this.offset++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    this.buf[this.offset++] = value & 0x7f;
    return this;
  };
  // Only the constructor calls it now (the growth above does not): its initial buffer becomes empty.
  Encoder.nextPowerOfTwo = () => 0;
  Encoder[PATCHED] = true;
  return true;
}
