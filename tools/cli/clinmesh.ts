import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MllpClient } from '@clinmesh/hl7v2';
import { repoRoot } from '@clinmesh/embedded-platform';

/**
 * `npm run clinmesh -- <command>`: small operator conveniences against the
 * running embedded platform (endpoints and token from .clinmesh/runtime.json).
 *
 *   mllp-send <file.hl7> [...]          send HL7 files over MLLP, print each ACK
 *   replay <service> <consumer|tier> earliest|offset <n>|timestamp <iso>
 *   consumers <service>                 positions, backlog and offset losses
 *   dead-letters <service>              list dead letters
 *   redrive <service> <id|all>          redrive dead letters
 *   token                               print the development token
 *   identity-parameters estimate [source] | activate <version> | retire <version> | list
 *                                       EM m/u parameter sets of the EMPI (estimate per source, activate, retire, list)
 *   identity-keys rebuild               re-derive every indexed record's blocking keys (after a key-scheme change):
 *                                       starts the job (or follows the one running) and prints its progress until it ends
 *   identity-keys list                  the newest rebuild jobs and how they ended
 */
interface RuntimeFile {
  endpoints: Record<string, { http?: string; mllp?: string }>;
  developerToken: string;
}

function runtime(): RuntimeFile {
  try {
    return JSON.parse(readFileSync(join(repoRoot(), '.clinmesh', 'runtime.json'), 'utf8'));
  } catch {
    throw new Error('no .clinmesh/runtime.json: start the platform with `npm start` first');
  }
}

async function call(service: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const rt = runtime();
  const base = rt.endpoints[service]?.http;
  if (!base) throw new Error(`unknown service ${service}; one of ${Object.keys(rt.endpoints).join(', ')}`);
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${rt.developerToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Starts the blocking-key rebuild (or, while one runs, follows that one) and prints its progress until it ends. */
async function followKeyRebuild(print: (v: unknown) => void): Promise<void> {
  let job: { id: string; state: string; progress: Record<string, number> };
  try {
    job = await call('identity-resolution', 'POST', '/v1/admin/identity/blocking-keys/rebuild', {}) as typeof job;
    print(`rebuild ${job.id} started`);
  } catch (error) {
    const running = /→ 409 (.*)$/s.exec((error as Error).message);
    if (!running) throw error;
    job = { id: JSON.parse(running[1]).id as string, state: 'running', progress: {} };
    print(`rebuild ${job.id} is already running; following it`);
  }
  let lastPages = -1;
  while (job.state === 'running') {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    job = await call('identity-resolution', 'GET', `/v1/admin/identity/blocking-keys/rebuilds/${encodeURIComponent(job.id)}`) as typeof job;
    if (job.state === 'running' && job.progress.pages !== lastPages) {
      lastPages = job.progress.pages;
      print(`  ${job.progress.records} records read, ${job.progress.rekeyed} rekeyed`);
    }
  }
  print(job);
  if (job.state !== 'done') process.exitCode = 1;
}

async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  const print = (v: unknown): void => { process.stdout.write(`${typeof v === 'string' ? v : JSON.stringify(v, null, 2)}\n`); };
  switch (command) {
    case 'mllp-send': {
      const url = new URL(runtime().endpoints.ingest.mllp!.replace('mllp://', 'http://'));
      const client = new MllpClient();
      await client.connect(url.hostname, Number(url.port));
      for (const file of args) {
        const text = readFileSync(file, 'utf8').replace(/\r?\n/g, '\r');
        print(`${file}:\n${(await client.send(text)).toString('utf8').replace(/\r/g, '\n')}`);
      }
      await client.close();
      return;
    }
    case 'replay': {
      // A consumer name (see `consumers <service>`) or a tier (every consumer of that tier).
      const [service, consumer, to, value] = args;
      const body = to === 'offset' ? { consumer, to, offset: Number(value) } : to === 'timestamp' ? { consumer, to, timestamp: value } : { consumer, to: 'earliest' };
      return print(await call(service, 'POST', '/v1/admin/replay', body));
    }
    case 'consumers':
      return print(await call(args[0], 'GET', '/v1/admin/consumers'));
    case 'dead-letters':
      return print(await call(args[0], 'GET', '/v1/admin/dead-letters'));
    case 'redrive':
      return print(args[1] === 'all'
        ? await call(args[0], 'POST', '/v1/admin/dead-letters/redrive', {})
        : await call(args[0], 'POST', `/v1/admin/dead-letters/${args[1]}/redrive`));
    case 'token':
      return print(runtime().developerToken);
    case 'identity-parameters': {
      const [sub, arg] = args;
      if (sub === 'estimate') return print(await call('identity-resolution', 'POST', '/v1/admin/identity/parameters/estimate', arg ? { source: arg } : {}));
      if (sub === 'activate' && arg) return print(await call('identity-resolution', 'POST', `/v1/admin/identity/parameters/${encodeURIComponent(arg)}/activate`, {}));
      if (sub === 'retire' && arg) return print(await call('identity-resolution', 'POST', `/v1/admin/identity/parameters/${encodeURIComponent(arg)}/retire`, {}));
      if (sub === 'list') return print(await call('identity-resolution', 'GET', '/v1/admin/identity/parameters'));
      throw new Error('usage: identity-parameters estimate [source] | activate <version> | retire <version> | list');
    }
    case 'identity-keys':
      if (args[0] === 'rebuild') return followKeyRebuild(print);
      if (args[0] === 'list') return print(await call('identity-resolution', 'GET', '/v1/admin/identity/blocking-keys/rebuilds'));
      throw new Error('usage: identity-keys rebuild | list');
    default:
      print('usage: npm run clinmesh -- mllp-send <file> | replay <service> <consumer|tier> earliest|offset <n>|timestamp <iso> | consumers <service> | dead-letters <service> | redrive <service> <id|all> | token | identity-parameters estimate [source]|activate <version>|retire <version>|list | identity-keys rebuild|list');
      process.exitCode = command ? 2 : 0;
  }
}

main(process.argv.slice(2)).catch((error) => {
  process.stderr.write(`clinmesh: ${(error as Error).message}\n`);
  process.exit(1);
});
