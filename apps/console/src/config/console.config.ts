import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ACCESS_LOG_LEVELS, AccessLogLevel } from '@clinmesh/observability';

export const CONSOLE_SERVICES = ['ingest', 'identity-resolution', 'normalization', 'policy', 'task', 'notifier'] as const;
export type ConsoleService = (typeof CONSOLE_SERVICES)[number];

export interface ConsoleConfig {
  host: string;
  port: number;
  /** Base URL of each service's HTTP API (the console calls them server-side with the user's own token). */
  services: Record<ConsoleService, string>;
  /** HS256 secret the platform signs bearer tokens with (to verify a token at sign-in). */
  authSecret: string;
  idleMs: number;
  /** Built front end (vite build output). */
  staticDir: string;
  /** Cookie `Secure` flag (off on loopback http). */
  secureCookie: boolean;
  /** Pipeline sampling period for the one-hour ring buffer. */
  sampleMs: number;
  /** How each API request is logged (CLINMESH_HTTP_ACCESS_LOG, as the services: info, debug or off). */
  accessLog: AccessLogLevel;
  /**
   * Bearer token (metrics:read) the pipeline sampler uses from the start (CONSOLE_SAMPLER_TOKEN; `npm start`
   * issues one); without it the sampler waits for an admin's sign-in and uses that session's token.
   */
  samplerToken?: string;
}

/**
 * Typed console config from CONSOLE_* variables with the embedded platform's
 * runtime file (.clinmesh/runtime.json) as the default; every problem listed.
 */
export function loadConsoleConfig(env: NodeJS.ProcessEnv = process.env, root = process.cwd()): ConsoleConfig {
  const errors: string[] = [];
  const get = (k: string) => (env[k] === undefined || env[k] === '' ? undefined : env[k]);
  const int = (k: string, fallback: number) => {
    const raw = get(k);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) errors.push(`${k} must be a non-negative integer (got "${raw}")`);
    return n;
  };
  const runtimeFile = env.CLINMESH_RUNTIME_FILE ?? join(root, '.clinmesh', 'runtime.json');
  // The embedded platform's runtime file (written by npm start): service endpoints and the token secret.
  const runtime = existsSync(runtimeFile)
    ? (JSON.parse(readFileSync(runtimeFile, 'utf8')) as { endpoints?: Record<string, { http?: string }>; internal?: { secrets?: { authSecret?: string } } })
    : undefined;
  const services = {} as Record<ConsoleService, string>;
  for (const s of CONSOLE_SERVICES) {
    const key = `CONSOLE_${s.toUpperCase().replace(/-/g, '_')}_URL`;
    const url = get(key) ?? runtime?.endpoints?.[s]?.http;
    if (!url) errors.push(`${key} is required (the ${s} service's base URL) — or start the embedded platform with \`npm start\``);
    services[s] = (url ?? '').replace(/\/$/, '');
  }
  const authSecret = get('CLINMESH_AUTH_SECRET') ?? runtime?.internal?.secrets?.authSecret ?? '';
  if (authSecret.length < 32) errors.push('CLINMESH_AUTH_SECRET is required (at least 32 characters)');
  const config: ConsoleConfig = {
    host: get('CONSOLE_HTTP_HOST') ?? '127.0.0.1',
    port: int('CONSOLE_HTTP_PORT', 8090),
    services,
    authSecret,
    idleMs: int('CONSOLE_IDLE_MINUTES', 15) * 60_000,
    staticDir: get('CONSOLE_STATIC_DIR') ?? join(root, 'dist', 'console-web'),
    secureCookie: get('CONSOLE_SECURE_COOKIE') === 'true',
    sampleMs: int('CONSOLE_SAMPLE_MS', 15_000),
    accessLog: (get('CLINMESH_HTTP_ACCESS_LOG') ?? 'info') as AccessLogLevel,
    samplerToken: get('CONSOLE_SAMPLER_TOKEN'),
  };
  if (!ACCESS_LOG_LEVELS.includes(config.accessLog)) errors.push(`CLINMESH_HTTP_ACCESS_LOG must be ${ACCESS_LOG_LEVELS.join(', ')} (got "${config.accessLog}")`);
  if (config.idleMs <= 0) errors.push('CONSOLE_IDLE_MINUTES must be at least 1');
  if (errors.length) throw new Error(`console configuration is invalid:\n  - ${errors.join('\n  - ')}`);
  return config;
}
