import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, WriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot } from '../kafka/mock-cluster.launcher';

export interface ManagedProcessOptions {
  name: string;
  /** Path under dist/ of the compiled entry point. */
  entry: string;
  env: NodeJS.ProcessEnv;
  logFile?: string;
  /** Also copy the process's output to ours, prefixed with its name. */
  echo?: boolean;
}

/**
 * A platform or service process started with the alias loader, its output
 * appended to a log file. kill('SIGKILL') + start() is how fault tests crash
 * and restart a service.
 */
export class ManagedProcess {
  private child: ChildProcess | null = null;
  private log: WriteStream | null = null;

  constructor(readonly options: ManagedProcessOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    if (this.running) return;
    const root = repoRoot();
    if (this.options.logFile && !this.log) {
      mkdirSync(dirname(this.options.logFile), { recursive: true });
      this.log = createWriteStream(this.options.logFile, { flags: 'a' });
    }
    const child = spawn(process.execPath, ['-r', join(root, 'tools', 'register.js'), join(root, 'dist', this.options.entry)], {
      cwd: root,
      env: this.options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const forward = (chunk: Buffer) => {
      this.log?.write(chunk);
      if (this.options.echo) process.stdout.write(chunk.toString('utf8').split('\n').filter(Boolean).map((l) => `[${this.options.name}] ${l}\n`).join(''));
    };
    child.stdout!.on('data', forward);
    child.stderr!.on('data', forward);
    this.child = child;
  }

  /** Resolves when the process has exited. */
  async kill(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM');
    await new Promise<void>((resolve) => (this.log ? this.log.end(resolve) : resolve()));
    this.log = null;
  }

  /** Polls a URL until it answers 200 (readiness), or throws after the timeout. */
  async waitForHttp(url: string, timeoutMs = 90000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.options.name} exited (code ${this.child?.exitCode}) before it was ready; see ${this.options.logFile}`);
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
        if (res.ok) return;
        last = `${res.status} ${(await res.text()).slice(0, 300)}`;
      } catch (error) {
        last = String((error as Error).message);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`${this.options.name} not ready at ${url} after ${timeoutMs} ms: ${last}`);
  }
}
