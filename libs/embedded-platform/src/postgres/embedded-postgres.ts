import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client } from 'pg';

/**
 * Runs a real PostgreSQL server from the machine's binaries (Debian's
 * postgresql package, installed by tools/setup.sh). PostgreSQL refuses to run
 * as root, so when we are root the server runs as the unprivileged user
 * `clinmesh`, created on demand. The superuser password is generated once per
 * data directory and kept in a 0600 file beside it — never in code.
 */
export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  /** Trade durability for speed (tests only): fsync/synchronous_commit off. */
  fast?: boolean;
  osUser?: string;
}

export interface RunningPostgres {
  port: number;
  superuserUrl: string;
  urlFor(database: string): string;
  ensureDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

export function findPostgresBin(): string {
  const explicit = process.env.CLINMESH_PG_BIN;
  if (explicit) return explicit;
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a));
    if (versions.length) return join(base, versions[0], 'bin');
  }
  throw new Error('PostgreSQL binaries not found: run `npm run setup` (installs Debian postgresql) or set CLINMESH_PG_BIN');
}

function ensureOsUser(user: string): void {
  if (spawnSync('id', ['-u', user]).status === 0) return;
  execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', user]);
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const bin = findPostgresBin();
  const dataDir = resolve(options.dataDir);
  const isRoot = process.getuid?.() === 0;
  const osUser = options.osUser ?? 'clinmesh';
  const asUser = (cmd: string, args: string[]) => (isRoot ? ['runuser', ['-u', osUser, '--', cmd, ...args]] as const : [cmd, args] as const);
  if (isRoot) ensureOsUser(osUser);

  const pgdata = join(dataDir, 'data');
  const socketDir = join(dataDir, 'run');
  const passwordFile = join(dataDir, 'superuser.password');
  mkdirSync(socketDir, { recursive: true });
  if (!existsSync(passwordFile)) writeFileSync(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(passwordFile, 'utf8').trim();
  if (isRoot) {
    const uid = Number(execFileSync('id', ['-u', osUser]).toString());
    const gid = Number(execFileSync('id', ['-g', osUser]).toString());
    for (const p of [dataDir, socketDir]) chownSync(p, uid, gid);
    chownSync(passwordFile, uid, gid);
  }
  chmodSync(dataDir, 0o700);

  if (!existsSync(join(pgdata, 'PG_VERSION'))) {
    const [cmd, args] = asUser(join(bin, 'initdb'), ['-D', pgdata, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${passwordFile}`, '-E', 'UTF8', '--locale=C.UTF-8']);
    execFileSync(cmd, [...args], { stdio: 'pipe' });
  }
  const settings = [
    `-p ${options.port}`,
    `-k ${socketDir}`,
    '-c listen_addresses=127.0.0.1',
    '-c max_connections=300',
    '-c shared_buffers=256MB',
    // Every client here runs short OLTP statements: JIT compilation only costs them (services also turn it off per session).
    '-c jit=off',
    // Wide values (link explanations, outbox payloads, canonical records) are compressed on insert; lz4 costs
    // far less CPU than the default pglz (identity's link insert: 380 → 240 ms over the same 4,390 records).
    ...(builtWithLz4(bin) ? ['-c default_toast_compression=lz4'] : []),
    ...(options.fast ? ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off'] : []),
  ].join(' ');
  // A stale server from a previous crash holds the port; pg_ctl stop is a no-op otherwise.
  stopQuietly(bin, pgdata, asUser);
  const [cmd, args] = asUser(join(bin, 'pg_ctl'), ['-D', pgdata, '-o', settings, '-l', join(dataDir, 'postgres.log'), '-w', '-t', '60', 'start']);
  execFileSync(cmd, [...args], { stdio: 'pipe' });

  // Clients on this machine reach the server through its Unix-domain socket (the `host` parameter, which libpq
  // and node-postgres honour): per statement it costs both sides far less CPU than loopback TCP — measured
  // in this library's README. The TCP host and port stay in the URL for tools that ignore the parameter.
  const urlFor = (db: string) => `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}/${db}?host=${encodeURIComponent(socketDir)}`;
  return {
    port: options.port,
    superuserUrl: urlFor('postgres'),
    urlFor,
    async ensureDatabase(name: string) {
      const client = new Client({ connectionString: urlFor('postgres') });
      await client.connect();
      try {
        const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
        if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
      } finally {
        await client.end();
      }
    },
    async stop() {
      stopQuietly(bin, pgdata, asUser);
    },
  };
}

function stopQuietly(bin: string, pgdata: string, asUser: (cmd: string, args: string[]) => readonly [string, readonly string[]]): void {
  if (!existsSync(join(pgdata, 'postmaster.pid'))) return;
  const [cmd, args] = asUser(join(bin, 'pg_ctl'), ['-D', pgdata, '-m', 'fast', '-w', 'stop']);
  spawnSync(cmd, [...args], { stdio: 'pipe' });
}

/** Whether this PostgreSQL build can compress with lz4 (PostgreSQL 14+ configured `--with-lz4`, as Debian's is). */
function builtWithLz4(bin: string): boolean {
  try {
    return execFileSync(join(bin, 'pg_config'), ['--configure'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).includes('--with-lz4');
  } catch {
    // No pg_config beside the server: keep the default (pglz), which every build has.
    return false;
  }
}
