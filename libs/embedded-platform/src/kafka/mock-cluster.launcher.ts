import { ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export interface RunningMockCluster {
  bootstraps: string;
  brokers: string[];
  controlUrl: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts mock-cluster.process.js as a child and waits for its ready line. */
export async function startMockCluster(options: { controlPort?: number; brokers?: number; launcherChild?: boolean } = {}): Promise<RunningMockCluster> {
  const script = resolve(__dirname, 'mock-cluster.process.js');
  // Under the launcher: own process group (Ctrl-C is the launcher's to handle) and an IPC channel whose
  // closing (the launcher died) ends the cluster.
  const child = spawn(process.execPath, ['-r', join(repoRoot(), 'tools', 'register.js'), script], {
    env: { ...process.env, CLINMESH_KAFKA_CONTROL_PORT: String(options.controlPort ?? 0), CLINMESH_KAFKA_BROKERS_COUNT: String(options.brokers ?? 3) },
    stdio: options.launcherChild ? ['ignore', 'pipe', 'inherit', 'ipc'] : ['ignore', 'pipe', 'inherit'],
    detached: !!options.launcherChild,
  });
  const ready = await new Promise<{ bootstraps: string; controlUrl: string }>((resolveReady, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      try {
        resolveReady(JSON.parse(line));
      } catch (error) {
        reject(error);
      }
    });
    child.once('exit', (code) => reject(new Error(`embedded kafka exited with ${code} before it was ready`)));
  });
  return {
    ...ready,
    brokers: ready.bootstraps.split(','),
    process: child,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export function repoRoot(): string {
  // dist/libs/embedded-platform/src/kafka → repo root
  return resolve(__dirname, '..', '..', '..', '..', '..');
}
