import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildAck, createMllpServer, encodeMllpFrame, MllpClient, parseHl7Message, peekHl7Header,
  type MllpServerEvent, type MllpServerOptions,
} from './index';

// Loopback sockets only: no external service is needed. No test waits on the
// clock: handlers are held by gates the test opens, and every wait is on a
// condition (an event, a closed socket, a count).
const msg = (id: string): string => `MSH|^~\\&|SND|SF|RCV|RF|20240101||ADT^A01|${id}|P|2.5\rPID|1||${id}\r`;

/** Lets `n` turns of the event loop pass (reorders concurrent work without timers). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
}

/** A promise the test resolves when it chooses. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => { open = r; });
  return { wait, open };
}

/** Answers AA echoing MSH-10, after `pace(id)` (default: at once). */
function ackHandler(pace: (id: string) => Promise<void> | void = () => undefined): MllpServerOptions['onMessage'] {
  return async (frame) => {
    const m = parseHl7Message(frame);
    await pace(m.header.controlId);
    return Buffer.from(buildAck(m, { code: 'AA', controlId: 'A' + m.header.controlId }).toString());
  };
}

async function start(opts: Partial<MllpServerOptions> = {}): Promise<{ port: number; events: MllpServerEvent[]; close: () => Promise<void>; server: ReturnType<typeof createMllpServer> }> {
  const events: MllpServerEvent[] = [];
  const server = createMllpServer({ port: 0, host: '127.0.0.1', onMessage: ackHandler(), onEvent: (e) => events.push(e), ...opts });
  const { port } = await server.listen();
  return { port, events, server, close: () => server.close({ forceAfterMs: 2000 }) };
}

const controlIdOf = (ack: Buffer): string | undefined => parseHl7Message(ack).get('MSA-2');

async function waitFor(cond: () => boolean, ms = 20000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise<void>((r) => setTimeout(r, 5));
  }
}

/** Raw socket helper: collects every byte the server sends. */
async function rawSocket(port: number, localAddress = '127.0.0.1'): Promise<{ s: net.Socket; received: () => Buffer; closed: Promise<void>; isClosed: () => boolean; write: (b: Buffer | string) => Promise<void> }> {
  const s = net.connect({ port, host: '127.0.0.1', localAddress });
  await new Promise<void>((r) => s.once('connect', () => r()));
  s.setNoDelay(true);
  const chunks: Buffer[] = [];
  let isClosed = false;
  s.on('data', (c) => chunks.push(c));
  const closed = new Promise<void>((r) => s.once('close', () => { isClosed = true; r(); }));
  s.on('error', () => undefined);
  // Resolves once the bytes are handed to the kernel: consecutive awaited writes leave as separate packets on loopback.
  const write = (b: Buffer | string) => new Promise<void>((r) => s.write(b, () => r()));
  return { s, received: () => Buffer.concat(chunks), closed, isClosed: () => isClosed, write };
}

const answersIn = (raw: Buffer): string[] => [...raw.toString('latin1').matchAll(/MSA\|AA\|([\w-]+)/g)].map((m) => m[1]);
const framesSeen = (events: MllpServerEvent[]): number => events.filter((e) => e.type === 'frame').length;

describe('MLLP server and client', () => {
  test('a handler resolving undefined answers nothing, and the next answer still lines up', async () => {
    const srv = await start({
      onMessage: async (frame) => {
        const m = parseHl7Message(frame);
        return m.header.controlId.startsWith('Q') ? undefined : Buffer.from(buildAck(m, { code: 'AA', controlId: 'A' + m.header.controlId }).toString());
      },
    });
    const raw = await rawSocket(srv.port);
    raw.s.write(Buffer.concat([encodeMllpFrame(msg('Q1')), encodeMllpFrame(msg('7')), encodeMllpFrame(msg('Q2')), encodeMllpFrame(msg('8')), encodeMllpFrame(msg('9'))]));
    // The answer to the last frame is the marker: everything before it has been answered (or not) by then.
    await waitFor(() => raw.received().toString('latin1').includes('MSA|AA|9'));
    const frames = raw.received().toString('latin1').split('\x1c\r').filter(Boolean);
    assert.deepEqual(frames.map((f) => /MSA\|AA\|(\w+)/.exec(f)?.[1]), ['7', '8', '9']);
    raw.s.destroy();
    await srv.close();
  });

  test('request/ACK round trip and pipelining on one connection keeps order', async () => {
    const srv = await start({ onMessage: ackHandler((id) => turns(Number(id) % 3 === 0 ? 20 : 1)) });
    const c = new MllpClient();
    await c.connect('127.0.0.1', srv.port);
    const acks = await Promise.all(Array.from({ length: 12 }, (_, i) => c.send(msg(String(i)))));
    assert.deepEqual(acks.map(controlIdOf), Array.from({ length: 12 }, (_, i) => String(i)));
    assert.equal(parseHl7Message(acks[0]).get('MSA-1'), 'AA');
    await c.close();
    await srv.close();
    assert.ok(srv.events.some((e) => e.type === 'connection'));
    await waitFor(() => srv.events.some((e) => e.type === 'disconnect'));
  });

  test('a slow handler delays, never reorders: handling is strictly sequential per connection', async () => {
    let active = 0;
    let maxActive = 0;
    const order: string[] = [];
    const slow = gate();
    const srv = await start({
      onMessage: async (frame) => {
        active++;
        maxActive = Math.max(maxActive, active);
        const id = parseHl7Message(frame).header.controlId;
        if (id === 'slow') await slow.wait;
        order.push(id);
        active--;
        return Buffer.from(buildAck(parseHl7Message(frame), { code: 'AA', controlId: 'x' }).toString());
      },
    });
    const c = new MllpClient();
    await c.connect('127.0.0.1', srv.port);
    const acks = Promise.all(['slow', 'b', 'c'].map((id) => c.send(msg(id))));
    try {
      // All three frames are at the server while the first is still being handled: none of the others may start.
      await waitFor(() => framesSeen(srv.events) === 3);
      assert.deepEqual(order, []);
      assert.equal(active, 1);
    } finally {
      slow.open();
    }
    assert.deepEqual((await acks).map(controlIdOf), ['slow', 'b', 'c']);
    assert.deepEqual(order, ['slow', 'b', 'c']);
    assert.equal(maxActive, 1);
    await c.close();
    await srv.close();
  });

  test('frames split across packets, several frames in one packet, garbage in between', async () => {
    const srv = await start();
    const { s, received, write } = await rawSocket(srv.port);
    const f1 = encodeMllpFrame(msg('1'));
    await write(f1.subarray(0, 5));
    await write(f1.subarray(5, f1.length - 1));
    await write(f1.subarray(f1.length - 1));
    s.write(Buffer.concat([Buffer.from('garbage!'), encodeMllpFrame(msg('2')), Buffer.from('\r\n'), encodeMllpFrame(msg('3'))]));
    await waitFor(() => (received().toString().match(/MSA\|AA/g) ?? []).length === 3);
    assert.deepEqual([...received().toString().matchAll(/MSA\|AA\|(\d)/g)].map((m) => m[1]), ['1', '2', '3']);
    const garbage = srv.events.filter((e): e is Extract<MllpServerEvent, { type: 'garbage' }> => e.type === 'garbage');
    assert.equal(garbage.reduce((n, e) => n + e.bytes, 0), 10);
    s.destroy();
    await srv.close();
  });

  test('oversized frame: NAK from onOversized in its place in the order; without the hook only an event', async () => {
    const srv = await start({
      maxFrameBytes: 2000,
      onOversized: (info) => {
        const h = peekHl7Header(info.head);
        return Buffer.from(buildAck(h ?? {}, { code: 'AR', controlId: 'nak', errors: [{ code: 102, severity: 'E', text: `Message exceeds ${info.maxFrameBytes} bytes` }] }).toString());
      },
    });
    const c = new MllpClient();
    await c.connect('127.0.0.1', srv.port);
    const big = msg('big') + 'OBX|1|ED|PDF||' + 'A'.repeat(5000) + '\r';
    const [a1, nak, a3] = await Promise.all([c.send(msg('1')), c.send(big), c.send(msg('3'))]);
    assert.equal(controlIdOf(a1), '1');
    assert.equal(parseHl7Message(nak).get('MSA-1'), 'AR');
    assert.equal(controlIdOf(nak), 'big', 'NAK echoes the control id salvaged from the head');
    assert.equal(parseHl7Message(nak).get('ERR-3'), '102');
    assert.equal(controlIdOf(a3), '3');
    assert.ok(srv.events.some((e) => e.type === 'oversized' && e.answered));
    await c.close();
    await srv.close();

    const quiet = await start({ maxFrameBytes: 2000 });
    const q = await rawSocket(quiet.port);
    q.s.write(Buffer.concat([encodeMllpFrame(big), encodeMllpFrame(msg('after'))]));
    await waitFor(() => q.received().toString().includes('MSA|AA|after'));
    assert.ok(!q.received().toString().includes('|big'), 'nothing answered for the oversized frame');
    assert.ok(quiet.events.some((e) => e.type === 'oversized' && !e.answered));
    q.s.destroy();
    await quiet.close();
  });

  test('a client that connects and sends nothing is closed after idleTimeoutMs', async () => {
    const srv = await start({ idleTimeoutMs: 100 });
    const { closed, received } = await rawSocket(srv.port);
    await closed;
    assert.ok(srv.events.some((e) => e.type === 'idle-timeout' && e.idleTimeoutMs === 100), 'closed by the idle timeout, not otherwise');
    assert.equal(received().length, 0);
    await waitFor(() => srv.server.connections() === 0);
    await srv.close();
  });

  test('a pending slow ACK is not idleness', async () => {
    const held = gate();
    const srv = await start({ idleTimeoutMs: 60, onMessage: ackHandler(() => held.wait) });
    const c = new MllpClient();
    await c.connect('127.0.0.1', srv.port);
    const ack = c.send(msg('7'));
    try {
      await waitFor(() => framesSeen(srv.events) === 1);
      // Watermark: a second connection opened now goes idle after the first one's idle timer has fired.
      const watermark = await rawSocket(srv.port);
      await watermark.closed;
      assert.equal(srv.events.filter((e) => e.type === 'idle-timeout').length, 1, 'only the watermark connection timed out');
    } finally {
      held.open();
    }
    assert.equal(controlIdOf(await ack), '7');
    await c.close();
    await srv.close();
  });

  test('50 concurrent connections each sending several pipelined messages', async () => {
    const srv = await start({ onMessage: ackHandler(() => turns(Math.floor(Math.random() * 5))) });
    const results = await Promise.all(
      Array.from({ length: 50 }, async (_, conn) => {
        const c = new MllpClient();
        await c.connect('127.0.0.1', srv.port);
        const ids = Array.from({ length: 6 }, (_, i) => `${conn}-${i}`);
        const acks = await Promise.all(ids.map((id) => c.send(msg(id))));
        await c.close();
        return acks.map(controlIdOf).join(',') === ids.join(',');
      }),
    );
    assert.equal(results.filter(Boolean).length, 50);
    assert.equal(srv.events.filter((e) => e.type === 'connection').length, 50);
    await srv.close();
  });

  test('maxConnections refuses extra connections', async () => {
    const srv = await start({ maxConnections: 2 });
    const a = await rawSocket(srv.port);
    const b = await rawSocket(srv.port);
    const c = await rawSocket(srv.port);
    await c.closed;
    assert.ok(srv.events.some((e) => e.type === 'connection-rejected'));
    a.s.destroy();
    b.s.destroy();
    await srv.close();
  });

  test('graceful close waits for in-flight messages and ACKs them; close is idempotent', async () => {
    const held = gate();
    const srv = await start({ onMessage: ackHandler(() => held.wait) });
    const c = new MllpClient();
    await c.connect('127.0.0.1', srv.port);
    const pending = c.send(msg('inflight'));
    let closing: Promise<void> | undefined;
    try {
      await waitFor(() => framesSeen(srv.events) === 1);
      closing = srv.server.close({ forceAfterMs: 5000 });
      assert.equal(srv.server.close(), closing, 'a second close is the same close');
    } finally {
      held.open();
    }
    assert.equal(controlIdOf(await pending), 'inflight');
    await closing;
    assert.equal(srv.server.connections(), 0);
  });

  test('frame deadline: a frame not ended within frameTimeoutMs of its start block is dropped and the connection closed after the earlier ACKs', async () => {
    const srv = await start({ frameTimeoutMs: 150, idleTimeoutMs: 60_000 });
    const raw = await rawSocket(srv.port);
    const partial = encodeMllpFrame(msg('never-ends')).subarray(0, 40);
    await raw.write(Buffer.concat([encodeMllpFrame(msg('done-1')), partial]));
    // A slow sender trickling bytes keeps the connection busy but does not move the frame's deadline.
    const trickle = setInterval(() => { if (!raw.isClosed()) raw.s.write('X'); }, 20);
    await raw.closed;
    clearInterval(trickle);
    assert.deepEqual(answersIn(raw.received()), ['done-1'], 'the complete frame before it was answered');
    const timeouts = srv.events.filter((e): e is Extract<MllpServerEvent, { type: 'frame-timeout' }> => e.type === 'frame-timeout');
    assert.equal(timeouts.length, 1);
    assert.equal(timeouts[0].frameTimeoutMs, 150);
    assert.equal(timeouts[0].remoteAddress, '127.0.0.1');
    assert.ok(timeouts[0].partialBytes >= partial.length - 1, `partial bytes dropped: ${timeouts[0].partialBytes}`);
    assert.ok(!srv.events.some((e) => e.type === 'idle-timeout'));
    await waitFor(() => srv.server.connections() === 0);
    await srv.close();
  });

  test('frame deadline: it runs only while a frame is open (an idle gap between frames is not a timeout)', async () => {
    const srv = await start({ frameTimeoutMs: 100, idleTimeoutMs: 60_000 });
    const c = new MllpClient();
    await c.connect('127.0.0.1', srv.port);
    assert.equal(controlIdOf(await c.send(msg('before'))), 'before');
    // Watermark: a partial frame started after that ACK times out after the first frame's deadline would have.
    const slow = await rawSocket(srv.port);
    await slow.write(encodeMllpFrame(msg('partial')).subarray(0, 20));
    await slow.closed;
    assert.equal(srv.events.filter((e) => e.type === 'frame-timeout').length, 1, 'only the partial frame timed out');
    assert.equal(controlIdOf(await c.send(msg('after'))), 'after', 'the first connection is still served');
    await c.close();
    await srv.close();
  });

  test('frame deadline: a frame left open while the server itself stopped reading (backpressure) is not timed out', async () => {
    const held = gate();
    const srv = await start({ frameTimeoutMs: 300, idleTimeoutMs: 60_000, onMessage: ackHandler(() => held.wait) });
    const a = await rawSocket(srv.port);
    try {
      const last = encodeMllpFrame(msg('f64'));
      // 64 frames fill the server's queue (it stops reading); the 65th is started in the same packet.
      await a.write(Buffer.concat([...Array.from({ length: 64 }, (_, i) => encodeMllpFrame(msg(`f${i}`))), last.subarray(0, 10)]));
      await waitFor(() => framesSeen(srv.events) === 64);
      // Watermark: a partial frame started after that one times out first; by then the first frame's deadline would have passed.
      const w = await rawSocket(srv.port);
      await w.write(encodeMllpFrame(msg('watermark')).subarray(0, 10));
      await w.closed;
      assert.equal(srv.events.filter((e) => e.type === 'frame-timeout').length, 1, 'only the watermark timed out');
      assert.equal(a.isClosed(), false);
      held.open();
      await a.write(last.subarray(10));
      await waitFor(() => answersIn(a.received()).length === 65);
      assert.deepEqual(answersIn(a.received()), Array.from({ length: 65 }, (_, i) => `f${i}`));
    } finally {
      held.open(); // never leave a handler hanging on failure
      a.s.destroy();
      await srv.close();
    }
  });

  test('maxConnectionsPerSource refuses the extra connections of one source, not other sources', async () => {
    const srv = await start({ maxConnectionsPerSource: 2, maxConnections: 100 });
    const a = await rawSocket(srv.port);
    const b = await rawSocket(srv.port);
    await waitFor(() => srv.server.connections() === 2);
    const refused = await rawSocket(srv.port);
    await refused.closed;
    const rejections = srv.events.filter((e): e is Extract<MllpServerEvent, { type: 'connection-rejected' }> => e.type === 'connection-rejected');
    assert.deepEqual(rejections.map((e) => [e.reason, e.remoteAddress, e.limit]), [['max-connections-per-source', '127.0.0.1', 2]]);
    // Another loopback source address is its own bucket.
    const other = await rawSocket(srv.port, '127.0.0.2');
    await other.write(encodeMllpFrame(msg('other-source')));
    await waitFor(() => answersIn(other.received()).includes('other-source'));
    assert.deepEqual(Object.fromEntries(srv.server.connectionsBySource()), { '127.0.0.1': 2, '127.0.0.2': 1 });
    // A slot freed by a closed connection can be taken again.
    a.s.destroy();
    await waitFor(() => srv.server.connectionsBySource().get('127.0.0.1') === 1);
    const again = await rawSocket(srv.port);
    await again.write(encodeMllpFrame(msg('again')));
    await waitFor(() => answersIn(again.received()).includes('again'));
    for (const x of [b, other, again]) x.s.destroy();
    await srv.close();
  });

  test('a failing handler closes the connection without an ACK (the peer re-sends)', async () => {
    const srv = await start({ onMessage: async () => { throw new Error('store down'); } });
    const c = new MllpClient();
    await c.connect('127.0.0.1', srv.port);
    await assert.rejects(c.send(msg('1')), { code: 'MLLP.CLIENT.CLOSED' });
    assert.ok(srv.events.some((e) => e.type === 'error' && e.stage === 'handler'));
    await srv.close();
  });
});

describe('MLLP over TLS', () => {
  let dir = '';
  let openssl = false;
  before(() => {
    try {
      execFileSync('which', ['openssl'], { stdio: 'ignore' });
      dir = mkdtempSync(join(tmpdir(), 'hl7v2-tls-'));
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
      openssl = true;
    } catch {
      openssl = false;
    }
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('TLS and mutual TLS (self-signed cert generated with openssl)', async (t) => {
    if (!openssl) {
      t.skip('openssl not available: TLS test skipped');
      return;
    }
    const key = readFileSync(join(dir, 'key.pem'));
    const cert = readFileSync(join(dir, 'cert.pem'));
    let peerCn: unknown;
    const srv = await start({
      tls: { key, cert, ca: cert, requestCert: true, rejectUnauthorized: true },
      onMessage: async (frame, ctx) => {
        peerCn = ctx.peerCertificate?.subject?.CN;
        assert.equal(ctx.tls, true);
        return Buffer.from(buildAck(parseHl7Message(frame), { code: 'AA', controlId: 't' }).toString());
      },
    });
    const c = new MllpClient();
    await c.connect('127.0.0.1', srv.port, { ca: cert, key, cert, servername: 'localhost' });
    assert.equal(controlIdOf(await c.send(msg('tls1'))), 'tls1');
    assert.equal(peerCn, 'localhost');
    await c.close();

    // Without a client certificate the handshake is refused.
    const anon = new MllpClient();
    const outcome = await anon
      .connect('127.0.0.1', srv.port, { ca: cert, servername: 'localhost' })
      .then(() => anon.send(msg('x')))
      .then(() => 'answered', () => 'refused');
    assert.equal(outcome, 'refused');
    await anon.close();
    await srv.close();
  });
});
