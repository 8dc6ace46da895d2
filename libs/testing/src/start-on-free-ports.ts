import { existsSync, readFileSync } from 'node:fs';
import { ManagedProcess, freePort } from '@clinmesh/embedded-platform';

/**
 * Starts a service process and waits until it is ready. A port from `freePort()` is free only when
 * it is chosen: e2e files run side by side, and another one's process can bind it first. A service
 * that exits because one of its listening ports (`portVariables`: HTTP, MLLP) was taken — its log
 * says so — gets a new port in that variable and starts again.
 */
export async function startOnFreePorts(
  proc: ManagedProcess,
  readyUrl: () => string,
  portVariables: readonly string[],
  attempts = 3,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const logBefore = logLength(proc);
    proc.start();
    try {
      await proc.waitForHttp(readyUrl(), 120000);
      return;
    } catch (error) {
      const log = proc.options.logFile && existsSync(proc.options.logFile) ? readFileSync(proc.options.logFile, 'utf8').slice(logBefore) : '';
      const taken = portVariables.find((v) => log.includes(`EADDRINUSE: address already in use 127.0.0.1:${proc.options.env[v]}`));
      if (attempt >= attempts || !taken) throw error;
      proc.options.env[taken] = String(await freePort());
    }
  }
}

function logLength(proc: ManagedProcess): number {
  const file = proc.options.logFile;
  return file && existsSync(file) ? readFileSync(file, 'utf8').length : 0;
}
