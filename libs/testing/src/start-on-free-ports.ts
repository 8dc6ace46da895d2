import { ManagedProcess, freePort } from '@clinmesh/embedded-platform';

/**
 * Starts a service process and waits until it is ready. A port from `freePort()` is free only when
 * it is chosen: e2e files run side by side, and another one's process can bind it first. A service
 * that exits because one of its listening ports (`portVariables`: HTTP, MLLP) was taken — the exit
 * error carries its own failed-to-start reason (ManagedProcess) — gets a new port in that variable
 * and starts again.
 */
export async function startOnFreePorts(
  proc: ManagedProcess,
  readyUrl: () => string,
  portVariables: readonly string[],
  attempts = 3,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    proc.start();
    try {
      await proc.waitForHttp(readyUrl(), 120000);
      return;
    } catch (error) {
      const reason = String((error as Error)?.message ?? '');
      const taken = portVariables.find((v) => reason.includes(`EADDRINUSE: address already in use 127.0.0.1:${proc.options.env[v]}`));
      if (attempt >= attempts || !taken) throw error;
      proc.options.env[taken] = String(await freePort());
    }
  }
}
