import { readFileSync } from 'node:fs';
import { ClinmeshError } from '@clinmesh/errors';

/** Bounds of a numeric setting; `max` omitted = no upper bound. */
export interface NumberBounds {
  min: number;
  max?: number;
}

/**
 * Reads one service's own settings (`<PREFIX>_<NAME>`) and collects every
 * invalid one, so a service reports all of them at once and refuses to start
 * (`assertValid`). A bad value is recorded with its full variable name and the
 * fallback is returned, so reading can go on. An unset or empty variable is
 * the fallback.
 *
 *   const s = new SettingsReader('INGEST', config.env);
 *   const port = s.int('MLLP_PORT', 2575, { min: 0 });
 *   s.assertValid('ingest');
 */
export class SettingsReader {
  /** Every problem found so far, each naming its variable. */
  readonly problems: string[] = [];

  /**
   * @param prefix the services's variable prefix without the trailing `_` (e.g. `INGEST`).
   * @param source the value of a setting by its name without the prefix (`ServiceConfig.env`).
   */
  constructor(
    private readonly prefix: string,
    private readonly source: (name: string) => string | undefined,
  ) {}

  /** The full variable name of a setting (`INGEST_MLLP_PORT`). */
  variable(name: string): string {
    return `${this.prefix}_${name}`;
  }

  /** The raw value; undefined when unset or empty. */
  raw(name: string): string | undefined {
    const value = this.source(name);
    return value === undefined || value === '' ? undefined : value;
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  /** An integer within bounds. */
  int(name: string, fallback: number, bounds: NumberBounds): number {
    return this.numeric(name, fallback, bounds, true);
  }

  /** A finite number (fractions allowed) within bounds. */
  number(name: string, fallback: number, bounds: NumberBounds): number {
    return this.numeric(name, fallback, bounds, false);
  }

  /** `true` only for the literal `true`; anything else set is false. */
  flag(name: string, fallback = false): boolean {
    const raw = this.raw(name);
    return raw === undefined ? fallback : raw === 'true';
  }

  /** A comma-separated list, items trimmed, empty items dropped; undefined when unset. */
  list(name: string): string[] | undefined {
    const raw = this.raw(name);
    return raw === undefined ? undefined : raw.split(',').map((s) => s.trim()).filter(Boolean);
  }

  /** A JSON value; undefined when unset or not JSON (then a problem). */
  json(name: string): unknown {
    const raw = this.raw(name);
    if (raw === undefined) return undefined;
    try {
      return JSON.parse(raw);
    } catch (e) {
      this.problem(`${this.variable(name)} is not JSON (${(e as Error).message})`);
      return undefined;
    }
  }

  /** The bytes of the file a setting names; undefined when unset or unreadable (then a problem). */
  file(name: string): Buffer | undefined {
    const path = this.raw(name);
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (error) {
      this.problem(`${this.variable(name)}: cannot read ${path} (${(error as Error).message})`);
      return undefined;
    }
  }

  /** Records a problem found by the service's own checks. */
  problem(message: string): void {
    this.problems.push(message);
  }

  /** Throws `CONFIG.INVALID` listing every problem, if there is any. */
  assertValid(service: string): void {
    if (this.problems.length) {
      throw new ClinmeshError('CONFIG.INVALID', `${service}: invalid configuration:\n - ${this.problems.join('\n - ')}`, { details: { errors: [...this.problems] } });
    }
  }

  private numeric(name: string, fallback: number, { min, max }: NumberBounds, integer: boolean): number {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || (max !== undefined && n > max)) {
      const kind = integer ? 'an integer' : 'a number';
      const range = max === undefined ? `≥ ${min}` : `between ${min} and ${max}`;
      this.problem(`${this.variable(name)} must be ${kind} ${range} (got ${JSON.stringify(raw)})`);
      return fallback;
    }
    return n;
  }
}
