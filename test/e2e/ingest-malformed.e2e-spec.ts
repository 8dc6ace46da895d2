import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import { MllpFrameDecoder, encodeMllpFrame } from '@clinmesh/hl7v2';
import { IngestPipeline, adtMessage, oruMessage, waitFor, withMshField } from '@clinmesh/testing';

const MAX_BYTES = 65536;
const IDLE_MS = 1500;
const FRAME_TIMEOUT_MS = 1000;
/** Above the 50 connections of the concurrency test, low enough to reach here. */
const PER_SOURCE = 55;

/** A raw MLLP peer: writes arbitrary bytes, collects every framed answer. */
class RawPeer {
  readonly answers: string[] = [];
  closed = false;
  private readonly socket: net.Socket;
  private readonly decoder = new MllpFrameDecoder({ maxFrameBytes: 1 << 20 });
  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.decoder.on('frame', (f) => this.answers.push(f.toString('utf8')));
    socket.on('data', (c) => this.decoder.push(c));
    socket.on('close', () => { this.closed = true; });
    socket.on('error', () => undefined);
  }
  static connect(port: number, localAddress = '127.0.0.1'): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port, localAddress }, () => resolve(new RawPeer(s)));
      s.setNoDelay(true);
      s.once('error', reject);
    });
  }
  write(bytes: Buffer | string): Promise<void> {
    return new Promise((resolve) => this.socket.write(bytes, () => resolve()));
  }
  async waitAnswers(n: number, what: string): Promise<string[]> {
    await waitFor(() => this.answers.length >= n, { what, timeoutMs: 30000, intervalMs: 20 });
    return this.answers.slice(0, n);
  }
  close(): void {
    this.socket.destroy();
  }
}

/** The ERR-3 table 0357 code of a v2.5+ NAK (ERR||loc|code^text^HL70357|…), or of MSA-6 for older versions. */
function errCode(ack: string): number | undefined {
  const m = /\rERR\|\|[^|\r]*\|(\d{3})\^/.exec(ack) ?? /\rERR\|[^|\r]*?(\d{3})&/.exec(ack);
  return m ? Number(m[1]) : undefined;
}
function msaCode(ack: string): string | undefined {
  return /(?:^|\r)MSA\|([A-Z]{2})\|/.exec(ack)?.[1];
}

interface Case {
  name: string;
  bytes: (channel: 'M' | 'H') => Buffer;
  ack: 'AE' | 'AR';
  code: number;
  reason: string;
  http: number;
}

// Deterministic binary junk; MLLP's own framing bytes (0x0B, 0x1C) are mapped away so the junk stays one frame.
const junk = Buffer.concat(Array.from({ length: 32 }, (_, i) => createHash('sha256').update(`junk-${i}`).digest())).map((b) => (b === 0x0b || b === 0x1c ? 0x7f : b));
const oversizedField = 'X'.repeat(MAX_BYTES + 1000);

const CASES: Case[] = [
  { name: 'missing MSH', bytes: (c) => Buffer.from(`PID|1||MRN-${c}^^^H^MR||DOE^JANE\rPV1|1|I\r`), ack: 'AE', code: 100, reason: 'PARSE_ERROR', http: 400 },
  { name: 'bad encoding characters', bytes: (c) => Buffer.from(`MSH|^~|APP|FAC|CLINMESH|CLINMESH|20261121||ADT^A01|BADENC-${c}|P|2.5.1\rPID|1||1\r`), ack: 'AE', code: 102, reason: 'PARSE_ERROR', http: 400 },
  { name: 'truncated in MSH', bytes: (c) => Buffer.from(`MSH|^~\\&|TRUNC${c}|FAC|CLINMESH|CLINMESH|2026112`), ack: 'AE', code: 101, reason: 'PARSE_ERROR', http: 400 },
  { name: 'truncated before MSH-10', bytes: (c) => Buffer.from(`MSH|^~\\&|TRUNC${c}|FAC|CLINMESH|CLINMESH|20261121||ADT^A01`), ack: 'AE', code: 101, reason: 'PARSE_ERROR', http: 400 },
  { name: 'binary junk', bytes: (c) => Buffer.concat([Buffer.from(c), junk]), ack: 'AE', code: 100, reason: 'PARSE_ERROR', http: 400 },
  { name: 'wrong MSH-12 (9.9)', bytes: (c) => withMshField(adtMessage({ controlId: `BADVER-${c}`, mrn: 'MRN-V' }), 12, '9.9'), ack: 'AR', code: 203, reason: 'UNSUPPORTED_VERSION', http: 422 },
  { name: 'unsupported message type', bytes: (c) => withMshField(adtMessage({ controlId: `BADTYPE-${c}`, mrn: 'MRN-T' }), 9, 'ZZZ^Z01'), ack: 'AR', code: 200, reason: 'UNSUPPORTED_TYPE', http: 422 },
  {
    name: 'invalid UTF-8 under MSH-18 UNICODE UTF-8',
    bytes: (c) => {
      const [head, tail] = adtMessage({ controlId: `BADUTF-${c}`, mrn: 'MRN-U', family: 'DOE', given: 'JANE' }).split('DOE^JANE');
      return Buffer.concat([Buffer.from(head), Buffer.from([0x44, 0xc3, 0x28, 0xff]), Buffer.from(tail)]);
    },
    ack: 'AE', code: 102, reason: 'ENCODING', http: 400,
  },
];

describe('ingest refuses malformed input with the right NAK and keeps it, over MLLP and HTTP', { timeout: 600_000 }, () => {
  let pipeline: IngestPipeline;

  before(async () => {
    pipeline = await IngestPipeline.start('ingest_bad', {
      env: {
        INGEST_MAX_MESSAGE_BYTES: String(MAX_BYTES), INGEST_MLLP_IDLE_TIMEOUT_MS: String(IDLE_MS), INGEST_FHIR_REQUIRED_ELEMENTS: 'error',
        INGEST_MLLP_FRAME_TIMEOUT_MS: String(FRAME_TIMEOUT_MS), INGEST_MLLP_MAX_CONNECTIONS_PER_SOURCE: String(PER_SOURCE),
      },
    });
  });
  after(async () => {
    await pipeline?.stop();
  });

  it('answers each malformed message with AE/AR + ERR (table 0357) and keeps it as a rejection with its reason', async () => {
    const mllp = await pipeline.mllpClient({ responseTimeoutMs: 20000 });
    for (const c of CASES) {
      const before = await pipeline.query<{ reason: string; channel: string; n: number }>(`SELECT reason, channel, count(*)::int AS n FROM in_rejection GROUP BY 1, 2`);
      const count = (reason: string, channel: string, rows: typeof before) => rows.find((r) => r.reason === reason && r.channel === channel)?.n ?? 0;

      const viaMllp = (await mllp.send(c.bytes('M'))).toString('utf8');
      assert.equal(msaCode(viaMllp), c.ack, `${c.name} over MLLP: ${viaMllp}`);
      assert.equal(errCode(viaMllp), c.code, `${c.name} over MLLP: ${viaMllp}`);

      const viaHttp = await pipeline.sendHl7(c.bytes('H'));
      assert.equal(viaHttp.status, c.http, `${c.name} over HTTP`);
      assert.equal(msaCode(viaHttp.ack), c.ack, `${c.name} over HTTP: ${viaHttp.ack}`);
      assert.equal(errCode(viaHttp.ack), c.code, `${c.name} over HTTP: ${viaHttp.ack}`);
      assert.equal(viaHttp.headers.get('x-clinmesh-rejection-reason'), c.reason);

      const after = await pipeline.query<{ reason: string; channel: string; n: number }>(`SELECT reason, channel, count(*)::int AS n FROM in_rejection GROUP BY 1, 2`);
      assert.equal(count(c.reason, 'MLLP', after) - count(c.reason, 'MLLP', before), 1, `${c.name}: kept once for MLLP`);
      assert.equal(count(c.reason, 'HTTP', after) - count(c.reason, 'HTTP', before), 1, `${c.name}: kept once for HTTP`);
    }
    // The rejection list names the reason and, where it could be read, the sender and control id.
    const listed = (await pipeline.request('GET', '/v1/rejections?reason=UNSUPPORTED_VERSION')).json().rejections;
    assert.deepEqual(listed.map((r: { controlId: string }) => r.controlId).sort(), ['BADVER-H', 'BADVER-M']);
    assert.ok(listed.every((r: { sender: string; detail: string }) => r.sender === 'TESTEHR^TESTHOSP' && /9\.9/.test(r.detail)));
    // The stream goes on: a good message on the same connection after all that.
    const good = (await mllp.send(adtMessage({ controlId: 'AFTER-BAD-1', mrn: 'MRN-OK' }))).toString('utf8');
    assert.match(good, /MSA\|AA\|AFTER-BAD-1/);
    await mllp.close();
  });

  it('refuses an oversized message: AR 102 over HTTP (413) and over MLLP (frame dropped, NAK in its place), both kept', async () => {
    const big = (c: string) => oruMessage({ controlId: `HUGE-${c}`, mrn: 'MRN-H', value: oversizedField });
    const http = await pipeline.sendHl7(big('H'));
    assert.equal(http.status, 413);
    assert.equal(msaCode(http.ack), 'AR');
    assert.equal(errCode(http.ack), 102);
    assert.match(http.ack, /MSA\|AR\|HUGE-H\|/);

    const mllp = await pipeline.mllpClient({ responseTimeoutMs: 20000 });
    const nak = (await mllp.send(big('M'))).toString('utf8');
    assert.equal(msaCode(nak), 'AR');
    assert.equal(errCode(nak), 102);
    assert.match(nak, /MSA\|AR\|HUGE-M\|/, 'the NAK echoes the control id salvaged from the frame head');
    // A huge field that fits the limit is fine, on the same connection.
    const fits = (await mllp.send(oruMessage({ controlId: 'HUGE-OK', mrn: 'MRN-H', value: 'Y'.repeat(MAX_BYTES - 2000) }))).toString('utf8');
    assert.match(fits, /MSA\|AA\|HUGE-OK/);
    await mllp.close();
    const kept = await pipeline.query(`SELECT channel, control_id, octet_length(raw) AS size, detail FROM in_rejection WHERE reason = 'OVERSIZED' ORDER BY channel`);
    assert.deepEqual(kept.map((k) => [k.channel, k.control_id]), [['HTTP', 'HUGE-H'], ['MLLP', 'HUGE-M']]);
    assert.match(kept[1].detail, /exceeds the limit of 65536/);
  });

  it('names every HTTP request: the caller\'s X-Request-Id (or a new one) answered and logged with the route pattern, no content', async () => {
    const accepted = await pipeline.sendHl7(adtMessage({ controlId: 'REQID-1', mrn: 'MRN-REQID', family: 'REQIDFAMILY' }), { 'x-request-id': 'e2e-request-1' });
    assert.equal(accepted.status, 200);
    assert.equal(accepted.headers.get('x-request-id'), 'e2e-request-1');
    const refused = await pipeline.sendHl7('not an HL7 message', { 'x-request-id': 'e2e request with spaces' });
    const given = refused.headers.get('x-request-id')!;
    assert.match(given, /^[0-9a-f-]{36}$/, 'an id that is not a plain token is replaced');
    const lineOf = (text: string, id: string) => text.split('\n').find((l) => l.includes(`"requestId":"${id}"`) && l.includes('"msg":"http request"'));
    const log = await waitFor(() => {
      const text = readFileSync(join(pipeline.env.platformDir, 'logs', pipeline.name, 'ingest.log'), 'utf8');
      return lineOf(text, 'e2e-request-1') && lineOf(text, given) ? text : undefined;
    }, { what: 'both requests logged' });
    const line = JSON.parse(lineOf(log, 'e2e-request-1')!);
    assert.deepEqual([line.method, line.route, line.status, line.completed, line.subject], ['POST', '/v1/hl7v2', 200, true, 'e2e-tester']);
    assert.equal(JSON.parse(lineOf(log, given)!).status, refused.status);
    assert.ok(!/MRN-REQID|REQIDFAMILY|REQID-1/.test(log), 'no message content in the log');
  });

  it('a re-used control id with different content is a new message (accepted, flagged) over both channels; the same content is the original ACK', async () => {
    const mllp = await pipeline.mllpClient({ responseTimeoutMs: 20000 });
    for (const channel of ['M', 'H'] as const) {
      const original = adtMessage({ controlId: `DUP-${channel}`, mrn: 'MRN-D', family: 'ORIGINAL' });
      const changed = adtMessage({ controlId: `DUP-${channel}`, mrn: 'MRN-D', family: 'CHANGED' });
      const send = async (m: string) => (channel === 'H' ? (await pipeline.sendHl7(m)).ack : (await mllp.send(m)).toString('utf8'));
      const first = await send(original);
      assert.equal(msaCode(first), 'AA');
      assert.equal(await send(original), first, 'same content: the original ACK again');
      // Line endings do not make new content: the same message with CRLF is the same message.
      assert.equal(await send(original.replace(/\r/g, '\r\n')), first, 'same content with CRLF: the original ACK');
      const reused = await send(changed);
      assert.equal(msaCode(reused), 'AA', `new content under a used control id is accepted: ${reused}`);
      assert.notEqual(reused, first, 'its own ACK');
      assert.equal(errCode(reused), undefined);
    }
    await mllp.close();
    const rows = await pipeline.query(`SELECT control_id, channel, flags FROM in_message WHERE control_id LIKE 'DUP-%' ORDER BY control_id, received_at`);
    assert.deepEqual(rows.map((r) => [r.control_id, r.channel, r.flags]), [
      ['DUP-H', 'HTTP', []], ['DUP-H', 'HTTP', ['control-id-reuse']],
      ['DUP-M', 'MLLP', []], ['DUP-M', 'MLLP', ['control-id-reuse']],
    ]);
    const [{ n }] = await pipeline.query(`SELECT count(*)::int AS n FROM in_rejection WHERE control_id LIKE 'DUP-%'`);
    assert.equal(n, 0, 'nothing refused');
    assert.equal(await pipeline.metric('clinmesh_ingest_control_id_reuse_total', { sender: 'TESTEHR^TESTHOSP', message_type: 'ADT^A01' }), 2);
  });

  it('racing arrivals under one control id: two contents at once are two messages, exactly one flagged; two copies at once are one message', async () => {
    const clients = await Promise.all([0, 1, 2, 3].map(() => pipeline.mllpClient({ responseTimeoutMs: 20000 })));
    try {
      for (let round = 0; round < 5; round++) {
        const id = `RACE-${round}`;
        const a = adtMessage({ controlId: id, mrn: 'MRN-R', family: 'ALPHA' });
        const b = adtMessage({ controlId: id, mrn: 'MRN-R', family: 'BRAVO' });
        // a and b twice each, on four connections at the same moment.
        const acks = (await Promise.all([a, b, a, b].map((m, i) => clients[i].send(m)))).map((x) => x.toString('utf8'));
        assert.ok(acks.every((x) => msaCode(x) === 'AA'), acks.join('\n'));
        assert.equal(acks[0], acks[2], 'the two copies of a get one ACK (one is the other\'s duplicate)');
        assert.equal(acks[1], acks[3]);
        const rows = await pipeline.query<{ flags: string[] }>(`SELECT flags FROM in_message WHERE control_id = $1`, [id]);
        assert.equal(rows.length, 2, `${id}: two messages`);
        assert.deepEqual(rows.map((r) => r.flags.join(',')).sort(), ['', 'control-id-reuse'], `${id}: the later one flagged`);
      }
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it('MLLP framing: frames split across packets, several frames in one packet, garbage between frames', async () => {
    const peer = await RawPeer.connect(pipeline.mllpPort);
    const frame = (id: string) => encodeMllpFrame(adtMessage({ controlId: id, mrn: `MRN-${id}` }));
    // One frame in three packets, cut inside the start block's payload and between 0x1C and 0x0D.
    const f = frame('SPLIT-1');
    // Each write resolves when handed to the kernel; with Nagle off, each leaves as its own packet on loopback.
    await peer.write(f.subarray(0, 7));
    await peer.write(f.subarray(7, f.length - 1));
    await peer.write(f.subarray(f.length - 1));
    // Three frames in one packet, with garbage before, between and after.
    const garbageBefore = await pipeline.metric('clinmesh_mllp_events_total', { type: 'garbage' });
    await peer.write(Buffer.concat([Buffer.from('noise\r\n'), frame('MULTI-1'), Buffer.from([0x00, 0xff, 0x1c, 0x0d]), frame('MULTI-2'), Buffer.from('HTTP/1.1 GET /\r\n'), frame('MULTI-3')]));
    const answers = await peer.waitAnswers(4, 'four ACKs');
    assert.deepEqual(answers.map((a) => /MSA\|(\w\w)\|([^|\r]*)/.exec(a)!.slice(1).join(' ')), ['AA SPLIT-1', 'AA MULTI-1', 'AA MULTI-2', 'AA MULTI-3'], 'in order, one each');
    peer.close();
    await waitFor(async () => (await pipeline.metric('clinmesh_mllp_events_total', { type: 'garbage' })) > garbageBefore, { what: 'garbage counted' });
  });

  it('closes a connection that sends nothing after the idle timeout', async () => {
    const before = await pipeline.metric('clinmesh_mllp_events_total', { type: 'idle-timeout' });
    const silent = await RawPeer.connect(pipeline.mllpPort);
    await waitFor(() => silent.closed, { what: 'idle connection closed', timeoutMs: 20000, intervalMs: 50 });
    await waitFor(async () => (await pipeline.metric('clinmesh_mllp_events_total', { type: 'idle-timeout' })) >= before + 1, { what: 'the idle timeout counted' });
    assert.deepEqual(silent.answers, []);
  });

  it('gives every frame a read deadline from its start block: a frame still open then is dropped, the connection closed, counted and logged without content', async () => {
    const refusals = () => pipeline.metric('clinmesh_mllp_refusals_total', { reason: 'frame-timeout' });
    const before = await refusals();
    const peer = await RawPeer.connect(pipeline.mllpPort);
    const partial = encodeMllpFrame(adtMessage({ controlId: 'SLOW-2', mrn: 'MRN-SLOWLORIS', family: 'TRICKLEFAMILY' })).subarray(0, 150);
    await peer.write(Buffer.concat([encodeMllpFrame(adtMessage({ controlId: 'SLOW-1', mrn: 'MRN-S' })), partial]));
    // A byte every 100 ms: never idle, yet the open frame's deadline runs out.
    const trickle = setInterval(() => { if (!peer.closed) void peer.write('X'); }, 100);
    try {
      await waitFor(() => peer.closed, { what: 'the connection with a frame past its deadline closed', timeoutMs: 20000, intervalMs: 50 });
    } finally {
      clearInterval(trickle);
    }
    assert.deepEqual(peer.answers.map((a) => /MSA\|(\w\w)\|([^|\r]*)/.exec(a)!.slice(1).join(' ')), ['AA SLOW-1'], 'the complete frame before it was answered');
    await waitFor(async () => (await refusals()) === before + 1, { what: 'the frame timeout counted' });
    const [{ n }] = await pipeline.query(`SELECT count(*)::int AS n FROM in_message WHERE control_id = 'SLOW-2'`);
    assert.equal(n, 0, 'the partial frame was not taken for a message');
    const log = await waitFor(() => {
      const text = readFileSync(join(pipeline.env.platformDir, 'logs', pipeline.name, 'ingest.log'), 'utf8');
      return text.includes('read deadline') ? text : undefined;
    }, { what: 'the frame timeout logged' });
    const line = log.split('\n').find((l) => l.includes('read deadline'))!;
    assert.match(line, /"source":"127\.0\.0\.1"/);
    assert.match(line, new RegExp(`"frameTimeoutMs":${FRAME_TIMEOUT_MS}`));
    assert.ok(!/MRN-SLOWLORIS|TRICKLEFAMILY|SLOW-2/.test(log), 'no message content in the log');
  });

  it(`caps connections per source address (${PER_SOURCE}): the next one from that address is refused and counted, other addresses are served`, async () => {
    const refusals = () => pipeline.metric('clinmesh_mllp_refusals_total', { reason: 'max-connections-per-source' });
    const before = await refusals();
    // A loopback address of its own, so no connection of another test counts against the cap.
    const peers = await Promise.all(Array.from({ length: PER_SOURCE }, () => RawPeer.connect(pipeline.mllpPort, '127.0.0.3')));
    // Every one of them is served (an ACK each) ...
    await Promise.all(peers.map((p, i) => p.write(encodeMllpFrame(adtMessage({ controlId: `CAP-${i}`, mrn: 'MRN-CAP', trigger: 'A08' })))));
    await Promise.all(peers.map((p, i) => p.waitAnswers(1, `ACK on capped connection ${i}`)));
    // ... the next one from that address is closed at once ...
    const refused = await RawPeer.connect(pipeline.mllpPort, '127.0.0.3');
    await waitFor(() => refused.closed, { what: 'the connection over the per-source cap closed' });
    await waitFor(async () => (await refusals()) === before + 1, { what: 'the per-source refusal counted' });
    // ... while another source address is still served.
    const other = await RawPeer.connect(pipeline.mllpPort, '127.0.0.4');
    await other.write(encodeMllpFrame(adtMessage({ controlId: 'CAP-OTHER', mrn: 'MRN-CAP', trigger: 'A08' })));
    assert.match((await other.waitAnswers(1, 'ACK from another source'))[0], /MSA\|AA\|CAP-OTHER/);
    for (const p of [...peers, other]) p.close();
    assert.deepEqual(refused.answers, []);
  });

  it('serves 50 concurrent connections, each pipelining messages, all ACKed in order and stored once', async () => {
    const clients = await Promise.all(Array.from({ length: 50 }, () => pipeline.mllpClient({ responseTimeoutMs: 60000 })));
    const perClient = 6;
    const results = await Promise.all(clients.map(async (c, i) => {
      // Pipelined: all six sent before any ACK is read; ACKs must come back in the same order.
      const acks = await Promise.all(Array.from({ length: perClient }, (_, j) => c.send(adtMessage({ controlId: `CONC-${i}-${j}`, mrn: `MRN-C-${i}`, trigger: 'A08' }))));
      return acks.map((a) => /MSA\|(\w\w)\|([^|\r]*)/.exec(a.toString('utf8'))!.slice(1).join(' '));
    }));
    await Promise.all(clients.map((c) => c.close()));
    results.forEach((acks, i) => assert.deepEqual(acks, Array.from({ length: perClient }, (_, j) => `AA CONC-${i}-${j}`)));
    const [{ n, d }] = await pipeline.query(`SELECT count(*)::int AS n, count(DISTINCT control_id)::int AS d FROM in_message WHERE control_id LIKE 'CONC-%'`);
    assert.deepEqual({ n, d }, { n: 50 * perClient, d: 50 * perClient });
  });
});
