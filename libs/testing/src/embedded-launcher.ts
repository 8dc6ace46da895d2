import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { LAUNCHED_SERVICE_NAMES, ServiceName, envPrefixOf, freePort, repoRoot } from '@clinmesh/embedded-platform';
import { MllpClient } from '@clinmesh/hl7v2';
import { waitFor } from './test-environment';

/** What the launcher writes to `<dir>/runtime.json` (the parts tests read). */
export interface LauncherRuntimeFile {
  endpoints: Record<string, { http: string }>;
  developerToken: string;
  pids: Record<string, number>;
  internal: { databases: Record<ServiceName, string> };
}

/**
 * `npm start`'s launcher (deploy/embedded/launcher.ts) as a child process on
 * free loopback ports with its own working directory (its own PostgreSQL data
 * directory, logs and runtime.json), in its own process group so a test can
 * signal the launcher alone (SIGINT: orderly stop) or kill the whole group
 * (SIGKILL: a crash). Starting it again reuses the directory: the databases
 * survive, the Kafka-protocol cluster is new.
 */
export class EmbeddedLauncher {
  private child: ChildProcess | null = null;
  private output = '';
  readonly ports = {} as Record<ServiceName, number>;
  mllpPort = 0;
  private pgPort = 0;
  private registryPort = 0;
  private consolePort = 0;
  private exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | null = null;

  constructor(readonly dir: string, private readonly env: NodeJS.ProcessEnv = {}) {}

  /** Everything the launcher printed since the last start. */
  get stdout(): string {
    return this.output;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(timeoutMs = 180_000): Promise<LauncherRuntimeFile> {
    if (!this.pgPort) {
      this.pgPort = await freePort();
      this.registryPort = await freePort();
      this.mllpPort = await freePort();
      this.consolePort = await freePort();
      for (const s of LAUNCHED_SERVICE_NAMES) this.ports[s] = await freePort();
    }
    mkdirSync(this.dir, { recursive: true });
    const root = repoRoot();
    this.output = '';
    const child = spawn(process.execPath, [join(root, 'tools', 'run.js'), 'deploy/embedded/launcher.js'], {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        CLINMESH_DIR: resolve(this.dir),
        CLINMESH_PG_PORT: String(this.pgPort),
        SCHEMA_REGISTRY_PORT: String(this.registryPort),
        INGEST_MLLP_PORT: String(this.mllpPort),
        CONSOLE_HTTP_PORT: String(this.consolePort),
        CLINMESH_PG_FAST: '1',
        LOG_LEVEL: 'info',
        ...Object.fromEntries(LAUNCHED_SERVICE_NAMES.map((s) => [`${envPrefixOf(s)}_HTTP_PORT`, String(this.ports[s])])),
        ...this.env,
      },
    });
    this.child = child;
    child.stdout!.on('data', (c: Buffer) => (this.output += c.toString('utf8')));
    child.stderr!.on('data', (c: Buffer) => (this.output += c.toString('utf8')));
    this.exit = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
    await waitFor(() => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`launcher exited before it was ready:\n${this.output.slice(-3000)}`);
      return /clinmesh is running/.test(this.output);
    }, { what: 'the launcher to say it is running', timeoutMs, intervalMs: 250 });
    return this.runtime();
  }

  runtime(): LauncherRuntimeFile {
    const file = join(this.dir, 'runtime.json');
    if (!existsSync(file)) throw new Error(`no ${file}`);
    return JSON.parse(readFileSync(file, 'utf8')) as LauncherRuntimeFile;
  }

  /** Orderly stop (Ctrl-C): resolves with the exit once the launcher is gone. */
  async interrupt(timeoutMs = 300_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child?.kill('SIGINT');
    return this.waitExit(timeoutMs);
  }

  /**
   * A crash: SIGKILL to the launcher's whole process group, then wait until
   * every process it had started (runtime.json pids) is gone.
   */
  async killGroup(): Promise<void> {
    const pids = Object.values(this.runtime().pids ?? {});
    if (this.child?.pid) process.kill(-this.child.pid, 'SIGKILL');
    await this.waitExit(30_000);
    await waitFor(() => pids.every((pid) => !alive(pid)), { what: 'every process of the killed launcher to be gone', timeoutMs: 30_000, intervalMs: 100 });
  }

  private async waitExit(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const exit = this.exit;
    if (!exit) return { code: null, signal: null };
    const result = await Promise.race([exit, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`launcher still running after ${timeoutMs} ms:\n${this.output.slice(-3000)}`)), timeoutMs).unref())]);
    this.child = null;
    return result;
  }

  async request(service: ServiceName, method: string, path: string, body?: unknown): Promise<{ status: number; text: string; json: () => any }> {
    const rt = this.runtime();
    const res = await fetch(`http://127.0.0.1:${this.ports[service]}${path}`, {
      method,
      headers: { authorization: `Bearer ${rt.developerToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, text, json: () => JSON.parse(text) };
  }

  async query<T = Record<string, any>>(service: ServiceName, sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new Client({ connectionString: this.runtime().internal.databases[service] });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  async mllpClient(): Promise<MllpClient> {
    const client = new MllpClient();
    await client.connect('127.0.0.1', this.mllpPort);
    return client;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
