import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeMllpFrame, MllpFrameDecoder, type MllpOversizedInfo } from './index';

function collect(opts: { maxFrameBytes?: number } = {}): { d: MllpFrameDecoder; frames: string[]; garbage: number[]; oversized: MllpOversizedInfo[] } {
  const d = new MllpFrameDecoder(opts);
  const frames: string[] = [];
  const garbage: number[] = [];
  const oversized: MllpOversizedInfo[] = [];
  d.on('frame', (f) => frames.push(f.toString('latin1')));
  d.on('garbage', (n) => garbage.push(n));
  d.on('oversized', (i) => oversized.push(i));
  return { d, frames, garbage, oversized };
}

const F = (s: string): Buffer => encodeMllpFrame(Buffer.from(s, 'latin1'));

describe('MllpFrameDecoder', () => {
  test('encode/decode one frame', () => {
    assert.deepEqual([...F('AB')], [0x0b, 0x41, 0x42, 0x1c, 0x0d]);
    const c = collect();
    c.d.push(F('MSH|1'));
    assert.deepEqual(c.frames, ['MSH|1']);
    assert.equal(c.d.frames, 1);
  });
  test('several frames in one chunk, and every byte in its own chunk', () => {
    const all = Buffer.concat([F('one'), F('two'), F(''), F('three')]);
    const a = collect();
    a.d.push(all);
    assert.deepEqual(a.frames, ['one', 'two', '', 'three']);
    const b = collect();
    for (const byte of all) b.d.push(Buffer.of(byte));
    assert.deepEqual(b.frames, ['one', 'two', '', 'three']);
    assert.equal(b.d.garbageBytes, 0);
  });
  test('start marks each start block (the frame deadline runs from it); inFrame is true until the end block', () => {
    const c = collect();
    const events: string[] = [];
    c.d.on('start', () => events.push(`start:${c.d.inFrame}`));
    c.d.on('frame', (f) => events.push(`frame:${f.toString('latin1')}:${c.d.inFrame}`));
    const f = F('abc');
    c.d.push(f.subarray(0, 2));
    assert.equal(c.d.inFrame, true);
    c.d.push(Buffer.concat([f.subarray(2), Buffer.from([0x0b]), Buffer.from('x'), Buffer.from([0x0b]), Buffer.from('y')]));
    assert.deepEqual(events, ['start:true', 'frame:abc:false', 'start:true', 'start:true']);
    assert.equal(c.d.reset(), 1, 'the unfinished frame is dropped');
    assert.equal(c.d.inFrame, false);
  });
  test('garbage between frames is discarded and counted', () => {
    const c = collect();
    c.d.push(Buffer.concat([Buffer.from('junk'), F('a'), Buffer.from('\r\n'), F('b'), Buffer.from('x')]));
    assert.deepEqual(c.frames, ['a', 'b']);
    assert.equal(c.d.garbageBytes, 7);
    assert.deepEqual(c.garbage, [4, 2, 1]);
  });
  test('0x1C without CR is data; a start block mid-frame restarts the frame', () => {
    const c = collect();
    c.d.push(Buffer.from('\x0bA\x1cB\x1c\x0d', 'latin1'));
    assert.deepEqual(c.frames, ['A\x1cB']);
    c.d.push(Buffer.from('\x0bpartial\x0bfull\x1c\x0d', 'latin1'));
    assert.deepEqual(c.frames, ['A\x1cB', 'full']);
    assert.equal(c.d.garbageBytes, 7);
    c.d.push(Buffer.from('\x0bX\x1c', 'latin1'));
    c.d.push(Buffer.from('Y\x1c', 'latin1'));
    c.d.push(Buffer.from('\x0d', 'latin1'));
    assert.deepEqual(c.frames.at(-1), 'X\x1cY');
  });
  test('oversized frames are reported once with their head and skipped until the next start block', () => {
    const c = collect({ maxFrameBytes: 10 });
    c.d.push(Buffer.concat([F('ok'), Buffer.from('\x0bMSH|0123456789', 'latin1')]));
    c.d.push(Buffer.from('more data that is dropped\x1c\x0d', 'latin1'));
    c.d.push(F('next'));
    assert.deepEqual(c.frames, ['ok', 'next']);
    assert.equal(c.oversized.length, 1);
    assert.equal(c.oversized[0].maxFrameBytes, 10);
    assert.ok(c.oversized[0].bytesSeen > 10);
    assert.ok(c.oversized[0].head.toString().startsWith('MSH|0123456789'));
    assert.equal(c.d.oversizedFrames, 1);
    assert.equal(c.d.garbageBytes, 0, 'the dropped frame is not garbage');
    assert.equal(c.d.bufferedBytes, 0);
  });
  test('a frame of exactly maxFrameBytes passes', () => {
    const c = collect({ maxFrameBytes: 4 });
    c.d.push(F('abcd'));
    c.d.push(F('abcde'));
    c.d.push(F('ab'));
    assert.deepEqual(c.frames, ['abcd', 'ab']);
  });
  test('property: any frames, any garbage between, any chunking → same frames', () => {
    const payload = fc.uint8Array({ maxLength: 60 }).map((a) => Buffer.from(a.filter((b) => b !== 0x0b && b !== 0x1c)));
    const junk = fc.uint8Array({ maxLength: 8 }).map((a) => Buffer.from(a.filter((b) => b !== 0x0b)));
    fc.assert(
      fc.property(fc.array(fc.tuple(junk, payload), { maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 10 }), (items, cuts) => {
        const stream = Buffer.concat(items.flatMap(([j, p]) => [j, encodeMllpFrame(p)]));
        const d = new MllpFrameDecoder();
        const got: Buffer[] = [];
        d.on('frame', (f) => got.push(f));
        let pos = 0;
        let i = 0;
        while (pos < stream.length) {
          const n = cuts[i++ % cuts.length];
          d.push(stream.subarray(pos, pos + n));
          pos += n;
        }
        assert.deepEqual(got.map((b) => b.toString('hex')), items.map(([, p]) => p.toString('hex')));
        assert.equal(d.garbageBytes, items.reduce((s, [j]) => s + j.length, 0));
      }),
      { numRuns: 300 },
    );
  });
});
