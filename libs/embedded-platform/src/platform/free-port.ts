import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Lowest port handed out: above the registered services a developer machine commonly runs. */
const LOWEST = 20000;
const ATTEMPTS = 50;
/** Ports this process handed out recently: never handed out twice while they may still be unbound. */
const handedOut = new Set<number>();

/**
 * A loopback port that is free right now, for a listener that binds it a little later (a service
 * process, PostgreSQL, the registry).
 *
 * Chosen at random *below the kernel's ephemeral range*, not by binding port 0: port 0 hands out an
 * ephemeral port, and every outgoing connection on the machine (Kafka clients, database pools, HTTP
 * probes of parallel test files) takes its local port from that same range. A port chosen that way
 * could be taken as a connection's local port in the seconds before its listener started, and the
 * listener then failed with EADDRINUSE (seen in CI: a launcher's service exited at start). Below
 * the range only another listener can take it. Falls back to an ephemeral port when the range
 * cannot be read or nothing below it is free.
 */
export async function freePort(): Promise<number> {
  const ceiling = ephemeralRangeStart();
  if (ceiling > LOWEST + 1000) {
    for (let i = 0; i < ATTEMPTS; i++) {
      const port = LOWEST + Math.floor(Math.random() * (ceiling - LOWEST));
      if (handedOut.has(port)) continue;
      if (await canListen(port)) return remember(port);
    }
  }
  return remember(await listenOnce(0));
}

function remember(port: number): number {
  handedOut.add(port);
  if (handedOut.size > 2000) handedOut.delete(handedOut.values().next().value as number);
  return port;
}

/** First port of the kernel's ephemeral range (Linux), or 0 when unknown. */
function ephemeralRangeStart(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 0;
  } catch {
    return 0;
  }
}

async function canListen(port: number): Promise<boolean> {
  try {
    await listenOnce(port);
    return true;
  } catch {
    return false;
  }
}

/** Binds `port` on 127.0.0.1 (0: any ephemeral port), releases it, and gives the port bound. */
function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(bound));
    });
  });
}
