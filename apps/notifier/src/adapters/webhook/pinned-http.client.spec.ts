import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { PinnedHttpClient, Resolution } from './pinned-http.client';
import { AddressAllowlist, parseAllowlist } from '../../domain/address-guard';

/**
 * A loopback HTTP/1.1 peer written by hand, so the test decides what each connection does: answers
 * with keep-alive, or resets the connection when a request arrives on it (a server that dropped an
 * idle connection the client still holds).
 */
async function peer(resetSecondRequestOnFirstConnection: boolean): Promise<{ port: number; connections: () => number; requests: () => number; close: () => void }> {
  let connections = 0;
  let requests = 0;
  const server = net.createServer((socket) => {
    const connection = ++connections;
    let onThisConnection = 0;
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      // One request = headers + a body of content-length bytes.
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.slice(end + 4 + length);
        onThisConnection++;
        if (resetSecondRequestOnFirstConnection && connection === 1 && onThisConnection === 2) {
          socket.resetAndDestroy();
          return;
        }
        requests++;
        socket.write('HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\nKeep-Alive: timeout=30\r\n\r\n');
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return { port, connections: () => connections, requests: () => requests, close: () => server.close() };
}

function target(port: number): Extract<Resolution, { ok: true }> {
  return { ok: true, url: new URL(`http://127.0.0.1:${port}/hook`), port, address: '127.0.0.1', family: 4 };
}

describe('PinnedHttpClient connections', () => {
  const client = new PinnedHttpClient({} as AddressAllowlist, { httpsOnly: false });
  after(() => client.close());

  it('keeps the connection to a judged address alive: attempts in a row share one', async () => {
    const server = await peer(false);
    try {
      for (let i = 0; i < 3; i++) assert.equal((await client.post(target(server.port), '{}', { 'content-type': 'application/json' }, 5000)).status, 204);
      assert.equal(server.requests(), 3);
      assert.equal(server.connections(), 1);
    } finally {
      server.close();
    }
  });

  it('sends once more on a new connection when the server had dropped the kept one (reset): an answer, not a failed attempt', async () => {
    const server = await peer(true);
    try {
      assert.equal((await client.post(target(server.port), '{}', {}, 5000)).status, 204);
      const second = await client.post(target(server.port), '{}', {}, 5000);
      assert.equal(second.status, 204, JSON.stringify(second));
      assert.equal(server.connections(), 2);
      assert.equal(server.requests(), 2);
    } finally {
      server.close();
    }
  });
});

describe('PinnedHttpClient judgement', () => {
  it('resolves the host on every attempt and judges each answer: a kept judgement never lets a changed answer through', async () => {
    const answers = [['127.0.0.1'], ['10.0.0.5'], ['127.0.0.1'], ['127.0.0.1', '169.254.169.254']];
    let resolved = 0;
    // The resolver is the test's: nothing is looked up or connected to.
    const client = new PinnedHttpClient(parseAllowlist('127.0.0.0/8'), { httpsOnly: false }, async () => answers[resolved++]);
    const url = 'http://hooks.example.test:8080/hook';
    const first = await client.check(url);
    assert.deepEqual(first.ok && [first.address, first.port], ['127.0.0.1', 8080]);
    const rebound = await client.check(url);
    assert.deepEqual(!rebound.ok && rebound.code, 'SSRF.PRIVATE');
    const back = await client.check(url);
    assert.equal(back.ok, true);
    const mixed = await client.check(url);
    assert.deepEqual(!mixed.ok && mixed.code, 'SSRF.METADATA');
    assert.equal(resolved, 4, 'one resolution per attempt');
    for (let i = 0; i < 2; i++) {
      const refused = await client.check('http://user:secret@hooks.example.test:8080/hook');
      assert.deepEqual(!refused.ok && refused.code, 'URL.CREDENTIALS', 'a refused URL stays refused');
    }
    assert.equal(resolved, 4, 'a refused URL is never resolved');
    client.close();
  });
});
