import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { freePort } from './free-port';

describe('freePort', () => {
  it('gives distinct, bindable loopback ports below the kernel ephemeral range (where outgoing connections take their local ports)', async () => {
    const ephemeralStart = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    const ports: number[] = [];
    for (let i = 0; i < 20; i++) ports.push(await freePort());
    assert.equal(new Set(ports).size, ports.length, 'never the same port twice');
    for (const port of ports) {
      assert.ok(port >= 20000 && port < ephemeralStart, `${port} is below the ephemeral range (${ephemeralStart})`);
      await new Promise<void>((resolve, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
      });
    }
  });
});
