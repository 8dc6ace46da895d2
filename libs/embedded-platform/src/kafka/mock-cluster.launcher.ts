import { ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export interface RunningMockCluster {
  bootstraps: string;
  brokers: string[];
  /** The long-poll front (long-poll-front.ts) kafkajs clients connect through: `127.0.0.1:<port>`. */
  longPollFront: string;
  controlUrl: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Brokers of the embedded cluster: `CLINMESH_EMBEDDED_KAFKA_BROKERS`, default 1. Why one: every
 * consumer fetches from every broker that leads one of its partitions, and the mock cluster
 * answers an empty fetch only when the full max wait has passed. With 3 brokers each idle
 * consumer lane sent three fetches per wait; measured on two cores with the six services idle,
 * 3 brokers cost 1,019 ms of CPU per second (the cluster alone 139), 1 broker 590 (cluster 50) —
 * CPU that a stat event then met at every hop. Fault tests that need several brokers ask for them.
 */
export function embeddedBrokerCount(env: NodeJS.ProcessEnv): number {
  const raw = env.CLINMESH_EMBEDDED_KAFKA_BROKERS;
  if (raw === undefined || raw === '') return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 9) throw new Error(`CLINMESH_EMBEDDED_KAFKA_BROKERS must be an integer from 1 to 9 (got "${raw}")`);
  return n;
}

/**
 * `KAFKA_LONG_POLL_FRONT` for a service process on this cluster: its long-poll front, or `off`
 * (straight to the cluster) when the launching environment says `KAFKA_LONG_POLL_FRONT=off`
 * (A/B runs) or the cluster has no front.
 */
export function serviceLongPollFront(cluster: { longPollFront?: string }, env: NodeJS.ProcessEnv = process.env): string {
  return env.KAFKA_LONG_POLL_FRONT === 'off' ? 'off' : cluster.longPollFront ?? 'off';
}

/** Starts mock-cluster.process.js as a child and waits for its ready line. */
export async function startMockCluster(options: { controlPort?: number; brokers?: number; launcherChild?: boolean } = {}): Promise<RunningMockCluster> {
  const script = resolve(__dirname, 'mock-cluster.process.js');
  // Under the launcher: own process group (Ctrl-C is the launcher's to handle) and an IPC channel whose
  // closing (the launcher died) ends the cluster.
  const child = spawn(process.execPath, ['-r', join(repoRoot(), 'tools', 'register.js'), script], {
    env: { ...process.env, CLINMESH_KAFKA_CONTROL_PORT: String(options.controlPort ?? 0), CLINMESH_KAFKA_BROKERS_COUNT: String(options.brokers ?? embeddedBrokerCount(process.env)) },
    stdio: options.launcherChild ? ['ignore', 'pipe', 'inherit', 'ipc'] : ['ignore', 'pipe', 'inherit'],
    detached: !!options.launcherChild,
  });
  const ready = await new Promise<{ bootstraps: string; longPollFront: string; controlUrl: string }>((resolveReady, reject) => {
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
