import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import express from 'express';
import pino from 'pino';
import { requestIdOf, requestIds } from './request-id';

describe('requestIdOf', () => {
  it('keeps a caller\'s plain id and replaces anything else with a fresh UUID', () => {
    assert.equal(requestIdOf('req-1.a:b_C'), 'req-1.a:b_C');
    assert.equal(requestIdOf(['first', 'second']), 'first');
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    for (const bad of [undefined, '', 'has space', 'a"b', 'line\nbreak', 'x'.repeat(129)]) assert.match(requestIdOf(bad), uuid, JSON.stringify(bad));
    assert.notEqual(requestIdOf(undefined), requestIdOf(undefined));
  });
});

describe('requestIds middleware on an express app (loopback)', () => {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done(); } });
  let server: Server;
  let base: string;
  const start = async (accessLog: 'info' | 'debug' | 'off', level = 'info') => {
    const app = express();
    app.use(requestIds(pino({ level }, sink), accessLog));
    // After the middleware's own listener (listeners run in order): a response counted here has been logged.
    app.use((_req, res, next) => { res.once('finish', () => finished++); next(); });
    app.get('/v1/persons/:epid', (req, res) => {
      (req as unknown as { principal: { subject: string } }).principal = { subject: 'client-a' };
      res.json({ requestId: (req as unknown as { requestId: string }).requestId });
    });
    app.get('/health/live', (_req, res) => res.json({ ok: true }));
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const stop = () => new Promise((r) => server.close(r));
  let finished = 0;
  /** Until `n` more responses have finished (and so been logged, or not). */
  const settled = async (n: number, from: number) => {
    for (let i = 0; finished < from + n && i < 1000; i++) await new Promise((r) => setImmediate(r));
    assert.equal(finished, from + n, 'responses finished');
  };

  describe('access log info', () => {
    before(() => start('info'));
    after(stop);

    it('echoes the id in the header, hands it to the handler, and logs the route pattern, never the path or query', async () => {
      lines.length = 0;
      const from = finished;
      const r = await fetch(`${base}/v1/persons/EPID-123?name=Jane`, { headers: { 'x-request-id': 'caller-7', 'x-correlation-id': 'corr-9' } });
      assert.equal(r.headers.get('x-request-id'), 'caller-7');
      assert.deepEqual(await r.json(), { requestId: 'caller-7' });
      await settled(1, from);
      assert.equal(lines.length, 1);
      const line = lines[0];
      assert.equal(line.msg, 'http request');
      assert.equal(line.level, 30);
      assert.deepEqual({ requestId: line.requestId, correlationId: line.correlationId, method: line.method, route: line.route, status: line.status, completed: line.completed, subject: line.subject },
        { requestId: 'caller-7', correlationId: 'corr-9', method: 'GET', route: '/v1/persons/:epid', status: 200, completed: true, subject: 'client-a' });
      assert.equal(typeof line.ms, 'number');
      assert.doesNotMatch(JSON.stringify(line), /EPID-123|Jane/);
    });

    it('gives a request without a usable id a fresh one, and names an unmatched path "unmatched"', async () => {
      lines.length = 0;
      const from = finished;
      const r = await fetch(`${base}/v1/nowhere/Jane`, { headers: { 'x-request-id': 'not plain!' } });
      assert.equal(r.status, 404);
      const id = r.headers.get('x-request-id')!;
      assert.notEqual(id, 'not plain!');
      await settled(1, from);
      assert.deepEqual([lines[0].requestId, lines[0].route, lines[0].status], [id, 'unmatched', 404]);
      assert.doesNotMatch(JSON.stringify(lines[0]), /Jane/);
    });

    it('logs probes one level quieter (debug: not written at info)', async () => {
      lines.length = 0;
      const from = finished;
      const probe = await fetch(`${base}/health/live`);
      assert.ok(probe.headers.get('x-request-id'));
      await fetch(`${base}/v1/persons/E1`);
      await settled(2, from);
      assert.deepEqual(lines.map((l) => l.route), ['/v1/persons/:epid']);
    });
  });

  describe('access log off', () => {
    // A logger that writes debug lines too: "off" must write none at any level.
    before(() => start('off', 'debug'));
    after(stop);

    it('still assigns and echoes ids, and writes no access line', async () => {
      lines.length = 0;
      const from = finished;
      const r = await fetch(`${base}/v1/persons/E1`);
      assert.ok(r.headers.get('x-request-id'));
      const again = await fetch(`${base}/v1/persons/E2`);
      assert.notEqual(again.headers.get('x-request-id'), r.headers.get('x-request-id'));
      await settled(2, from);
      assert.equal(lines.length, 0);
    });
  });
});
